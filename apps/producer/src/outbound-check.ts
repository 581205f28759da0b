import type { Response } from 'express';
import type { Deps } from './deps.ts';

// Filled in by the allowed-targets change
export async function checkOutboundAllowed(
  deps: Deps,
  res: Response,
  urls: string[],
): Promise<void> {}
