import { createLogger } from '@errand/observability';
import { afterEach, describe, expect, it } from 'vitest';
import { type Liveness, makeLiveness, type WorkerState } from './liveness.ts';

/** The verdicts for Worker states set by hand, on a clock moved by hand. */
describe('liveness', () => {
  let clock = 0;
  let liveness: Liveness;
  const make = (graceMs: number) => {
    liveness = makeLiveness({
      graceMs,
      stallMs: 15_000,
      logger: createLogger('worker', 'silent'),
      now: () => clock,
    });
    return liveness;
  };
  afterEach(() => liveness?.close());

  it('is ready while each Worker runs, its blocking connection is ready and no call hangs', async () => {
    const live = make(60_000);
    const state: WorkerState = { running: true, blocking: 'ready' };
    const watch = live.watch('email', () => state);
    await watch.track('moveToActive', async () => 'job');
    expect(live.readiness()).toBeUndefined();
    expect(live.liveness()).toBeUndefined();
  });

  it('names the queue and what is wrong with its Worker', () => {
    const live = make(60_000);
    const email: WorkerState = { running: true, blocking: 'ready' };
    const image: WorkerState = { running: true, blocking: 'ready' };
    const watch = live.watch('email', () => email);
    live.watch('image', () => image);

    void watch.track('waitForJob', () => new Promise<never>(() => {})); // never answered
    clock += 15_000;
    expect(live.readiness()).toBeUndefined(); // a blocking wait may take that long
    clock += 5_000;
    expect(live.readiness()).toEqual({ queues: { email: 'waitForJob unanswered for 20 s' } });

    image.blocking = 'reconnecting';
    email.running = false;
    expect(live.readiness()).toEqual({
      queues: {
        email: 'not running: its fetch loop ended',
        image: 'blocking connection reconnecting',
      },
    });
  });

  it('fails liveness only after the grace of not-ready without a break', () => {
    const live = make(60_000);
    const state: WorkerState = { running: true, blocking: 'ready' };
    live.watch('email', () => state);

    state.blocking = 'connect';
    expect(live.liveness()).toBeUndefined();
    clock += 50_000;
    expect(live.liveness()).toBeUndefined();
    state.blocking = 'ready'; // back for a moment: the clock starts again
    expect(live.liveness()).toBeUndefined();
    state.blocking = 'reconnecting';
    expect(live.liveness()).toBeUndefined(); // seen from here (the sampler looks every second)
    clock += 50_000;
    expect(live.liveness()).toBeUndefined();
    clock += 10_001;
    expect(live.liveness()).toEqual({
      notReadyForMs: 60_001,
      queues: { email: 'blocking connection reconnecting' },
    });

    state.blocking = 'ready';
    expect(live.liveness()).toBeUndefined();
    expect(live.readiness()).toBeUndefined();
  });
});
