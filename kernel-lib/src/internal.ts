/**
 * Internal modules shared by the client and the runtime (worker side). Not a public API: the
 * runtime imports the protocol, serialization, key layout and storage from here so nothing is
 * written twice.
 */
export {
  PROTOCOL_VERSION,
  INLINE_LIMIT_BYTES,
  LOG_LIMIT_BYTES,
  encodeStatus,
  decodeStatus,
  encodePayload,
  decodePayload,
  failedStatus,
  encodeMonitorMessage,
  decodeMonitorMessage,
  setDurations,
} from "./protocol.js";
export { publishStart, publishStatus } from "./monitor/rabbitmq/publisher.js";
export type {
  CallStats,
  CallInput,
  ReduceInput,
  CallSpec,
  StorageRef,
  InvocationPayload,
  InvocationPayloadJson,
  RemoteInvokeRequest,
  RemoteErrorInfo,
  ResultRef,
  CallStatus,
  WorkerMessage,
  HostMessage,
  AmqpTarget,
  MonitorMessage,
} from "./protocol.js";
export { serializeValue, deserializeValue } from "./serialize.js";
export { TswrenError, ErrorCodes, RemoteFunctionError, asError } from "./errors.js";
export * as keys from "./storage/keys.js";
export { writeStatusUnlessSuperseded } from "./storage/status-write.js";
export { readJobStatuses, readCallStatus, decodeStatusBatch } from "./storage/status-records.js";
export { createStorageBackend } from "./storage/registry.js";
export type { StorageBackend, ObjectInfo, ByteRange } from "./storage/backend.js";
export { Storage } from "./storage/storage.js";
export { loadFunctionBundle, bundleModuleHashes, provideRuntimeModule } from "./job/function-bundle.js";
export { encodeFutureRefs } from "./job/future-refs.js";
export { refuseInnerBackend, runWithCallConfig } from "./job/call-config.js";
export { TSWREN_VERSION } from "./version.js";
export { RUNTIME_DEPLOY_COMMAND, runtimeVersionMismatch, checkRuntimeVersion } from "./runtime-version.js";
export { openPart } from "./data/cloud-object.js";
export { partition } from "./data/partitioner.js";
export type { PartSpec } from "./data/partitioner.js";
export { objects } from "./data/objects.js";
export type { CallContext } from "./context.js";
export { engineOf } from "./engine.js";
export { ASYNC_PAYLOAD_LIMIT_BYTES, EVENT_SIGNATURE_TTL_MS, STAGED_PAYLOAD_NAME, isPayloadRef } from "./compute/aws-lambda/events.js";
export type { LambdaPayloadRef } from "./compute/aws-lambda/events.js";
export {
  SigningKey,
  signPayload,
  verifyPayload,
  isSignedRequest,
  runtimeSigningKeys,
  generateSigningKey,
  SIGNING_KEY_ENV,
  PREVIOUS_SIGNING_KEY_ENV,
} from "./security/signing.js";
export type { SignedRequest, VerifyOutcome } from "./security/signing.js";
export { clientSigningKey, ensureSigningKey, findSigningKey, signingKeyFile } from "./security/key-store.js";
export { encodeFrame, FrameReader } from "./compute/docker/frames.js";
export type { DockerHostMessage, DockerWorkerMessage } from "./compute/docker/frames.js";
