/**
 * Writing a stream of unknown length to S3: a plain PUT needs a `Content-Length` (MinIO and S3
 * answer 411 without one), so the stream is cut into parts and sent as a multipart upload
 * (CreateMultipartUpload, UploadPart, CompleteMultipartUpload; AbortMultipartUpload when anything
 * fails, so no parts are left behind). A stream shorter than one part is sent as one PUT.
 */
import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateMultipartUploadCommand, PutObjectCommand,
  UploadPartCommand, type CompletedPart, type S3Client,
} from "@aws-sdk/client-s3";
import { ErrorCodes, TswrenError } from "../errors.js";

/** Size of each part but the last (S3's minimum part size is 5 MiB). */
export const PART_BYTES = 8 * 1024 * 1024;
/** Parts uploaded at once. */
const PARTS_IN_FLIGHT = 4;

/** Reads a stream into buffers of exactly `partBytes` (the last may be shorter). */
async function* parts(stream: Readable, partBytes: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    let buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    while (size + buf.length >= partBytes) {
      const take = partBytes - size;
      pending.push(buf.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      size = 0;
      buf = buf.subarray(take);
    }
    if (buf.length > 0) {
      pending.push(buf);
      size += buf.length;
    }
  }
  if (size > 0) yield Buffer.concat(pending);
}

/**
 * Upload `stream` to `bucket`/`key`. Errors are the SDK's (the caller maps them); on failure
 * the multipart upload is aborted.
 * @param partBytes - part size (at least 5 MiB for S3; smaller only for stores that allow it)
 */
export async function putStream(client: S3Client, bucket: string, key: string, stream: Readable, partBytes = PART_BYTES): Promise<void> {
  const source = parts(stream, partBytes);
  const first = await source.next();
  const firstPart = first.done === true ? Buffer.alloc(0) : first.value;
  if (firstPart.length < partBytes) {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: firstPart }));
    return;
  }
  const created = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const uploadId = created.UploadId;
  if (uploadId === undefined) throw new TswrenError(ErrorCodes.STORAGE, "the store started a multipart upload without an UploadId");
  try {
    const completed = await uploadParts(client, { bucket, key, uploadId }, firstPart, source);
    await client.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: completed } }));
  } catch (err) {
    await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
    stream.destroy();
    throw err;
  }
}

interface Upload {
  bucket: string;
  key: string;
  uploadId: string;
}

async function uploadParts(client: S3Client, upload: Upload, firstPart: Buffer, rest: AsyncGenerator<Buffer>): Promise<CompletedPart[]> {
  const completed: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let partNumber = 0;
  const send = (body: Buffer): void => {
    const PartNumber = ++partNumber;
    const sent = client
      .send(new UploadPartCommand({ Bucket: upload.bucket, Key: upload.key, UploadId: upload.uploadId, PartNumber, Body: body }))
      .then((out) => { completed.push({ PartNumber, ETag: out.ETag }); });
    const tracked = sent.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    // Awaited below (race / all); this only keeps an early failure from being reported unhandled.
    tracked.catch(() => undefined);
  };
  send(firstPart);
  for await (const part of rest) {
    if (inFlight.size >= PARTS_IN_FLIGHT) await Promise.race(inFlight);
    send(part);
  }
  await Promise.all(inFlight);
  return completed.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
}
