import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { HttpProblem, Problem, sendProblem } from './problem.ts';

/** Errors body-parser raises, by their `type`, as problems. */
function fromBodyParser(error: { type?: string; message?: string }): HttpProblem | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return new HttpProblem('body-too-large', 'The request body is over the size limit.');
    case 'entity.parse.failed':
      return new HttpProblem('malformed-json', 'The request body could not be parsed as JSON.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem('unsupported-media-type', 'Send the body as UTF-8 JSON.');
    default:
      return undefined;
  }
}

/** Last middleware: every error becomes problem+json; unexpected ones are logged, not shown. */
export function problemErrors(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    let problem = error instanceof Problem ? error : fromBodyParser(error);
    if (!problem) {
      logger.error({ err: error, method: req.method, path: req.path }, 'request failed');
      problem = new HttpProblem('internal', 'An unexpected error occurred; it has been logged.');
    }
    sendProblem(res, problem, req.originalUrl);
  };
}

/** For routes nobody serves. */
export const notFound: RequestHandler = (req, res) =>
  sendProblem(res, new HttpProblem('not-found', `Nothing is served at ${req.method} ${req.path}.`));
