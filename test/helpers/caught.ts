/** Await a promise that must reject with a TswrenError, and return that error. */
import { TswrenError } from "../../kernel-lib/src/errors.js";

/**
 * @throws Error when the promise resolves, or rejects with something else
 */
export async function caught(promise: Promise<unknown>): Promise<TswrenError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TswrenError) return err;
    throw err;
  }
  throw new Error("expected a TswrenError");
}
