import { makeEvents } from '@errand/testing';

/**
 * Live traffic: events of 5 names from 50,000 users, stamped within the last minute (as a
 * client sends them), with a `plan` property whose top values are kept; ids unique to `tag`.
 */
export const liveEvents = (count: number, tag: string) =>
  makeEvents({
    count,
    names: ['signup', 'login', 'page.view', 'purchase', 'search'],
    fromMs: Date.now() - 60_000,
    spanMs: 60_000,
    users: 50_000,
    idPrefix: tag,
  });
