/**
 * `POST /api/v1/namespaces/{ns}/actions/[{pkg}/]{name}`: the invoke route, with OpenWhisk's
 * checks in its order (404 unknown action, 413 payload, 429 per-minute, 429 concurrent), the
 * injected faults, then a non-blocking 202 `{activationId}` or a blocking wait of at most
 * `blockingTimeoutMs` (then 202 as well).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActionPath, ResolvedAction } from "./action-store.js";
import type { EmulatorState } from "./emulator-state.js";
import { HttpError, newId, parseObject, readBody, sendError, sendJson } from "./http-json.js";
import { runActivation } from "./invoker.js";
import { MESSAGES } from "./limits.js";
import type { ActivationRecord, OpenWhiskFaultKind } from "./types.js";

/** How the caller wants the answer. */
export interface InvokeMode {
  blocking: boolean;
  /** `?result=true`: only the result, not the whole record. */
  resultOnly: boolean;
}

/**
 * Serve one invoke request.
 * @param state - the emulator
 * @param req - the request
 * @param res - the response
 * @param path - the action
 * @param mode - blocking and result flags
 * @returns when answered
 * @throws HttpError 404 for an unknown action, 400 for a body that is not a JSON object
 */
export async function invokeAction(
  state: EmulatorState,
  req: IncomingMessage,
  res: ServerResponse,
  path: ActionPath,
  mode: InvokeMode,
): Promise<void> {
  const { options, stats } = state;
  const body = await readBody(req, options.maxPayloadBytes);
  const action = state.store.resolve(path);
  if (body.tooLarge) {
    stats.payloadTooLarge++;
    sendError(res, 413, MESSAGES.tooBig("Request", body.bytes, options.maxPayloadBytes));
    return;
  }
  const payload = parseObject(body.text);
  if (payload === undefined) throw new HttpError(400, "The request content was malformed:\nthe payload must be a JSON object.");
  const fault = state.faults.next();
  if (fault !== "none") stats.faults[fault]++;
  if (fault === "drop") {
    req.socket.destroy();
    return;
  }
  if (fault === "429") {
    sendError(res, 429, MESSAGES.tooManyConcurrent(options.concurrentLimit, options.concurrentLimit));
    return;
  }
  if (throttled(state, res)) return;
  const activationId = accept(state, action, payload, fault);
  if (fault === "drop-after-accept") {
    req.socket.destroy();
    return;
  }
  const headers = { "x-openwhisk-activation-id": activationId };
  if (!mode.blocking) {
    sendJson(res, 202, { activationId }, headers);
    return;
  }
  const record = await state.activations.wait(activationId, options.blockingTimeoutMs);
  if (record === undefined) sendJson(res, 202, { activationId }, headers);
  else sendJson(res, blockingStatus(record), mode.resultOnly ? record.response.result : record, headers);
}

/** Apply the per-minute then the concurrency limit; true when a 429 was sent. */
function throttled(state: EmulatorState, res: ServerResponse): boolean {
  const { options, stats } = state;
  const count = state.minute.hit(Date.now());
  if (count > options.invocationsPerMinute) {
    stats.throttledPerMinute++;
    sendError(res, 429, MESSAGES.tooManyPerMinute(count, options.invocationsPerMinute));
    return true;
  }
  if (stats.inFlight >= options.concurrentLimit) {
    stats.throttledConcurrent++;
    sendError(res, 429, MESSAGES.tooManyConcurrent(stats.inFlight, options.concurrentLimit));
    return true;
  }
  return false;
}

/**
 * Accept an activation: count it in flight and run it (or, for a never-finish fault, only hold its
 * slot until its timeout passes, as OpenWhisk's controller releases a lost activation's slot).
 */
function accept(state: EmulatorState, action: ResolvedAction, payload: Record<string, unknown>, fault: OpenWhiskFaultKind): string {
  const { stats } = state;
  const activationId = newId();
  stats.inFlight++;
  stats.invocations++;
  if (fault === "never-finish") {
    const timer = setTimeout(() => {
      state.timers.delete(timer);
      stats.inFlight--;
    }, action.doc.limits.timeout);
    timer.unref();
    state.timers.add(timer);
    return activationId;
  }
  const request = { activationId, transactionId: newId(), action, payload, acceptedMs: Date.now() };
  const run: Promise<ActivationRecord | undefined> = runActivation(state.invoker, request)
    .catch((err: unknown) => {
      process.emitWarning(`openwhisk emulator: activation ${activationId} failed inside the emulator: ${String(err)}`);
      return undefined;
    })
    .finally(() => {
      stats.inFlight--;
      state.running.delete(run);
    });
  state.running.add(run);
  return activationId;
}

/** OpenWhisk's blocking-invoke statuses: 200 success, 502 application or developer error, 500 whisk error. */
function blockingStatus(record: ActivationRecord): number {
  switch (record.response.status) {
    case "success":
      return 200;
    case "application error":
    case "action developer error":
      return 502;
    case "whisk internal error":
      return 500;
  }
}
