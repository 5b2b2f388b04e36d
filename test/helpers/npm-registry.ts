/**
 * A read-only npm registry on 127.0.0.1 for installer tests: it answers packument requests
 * (`GET /<name>`) and tarball downloads with npm's registry wire format, so `npm view` and
 * `npm install` (with its integrity check) run for real against packages the test builds.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { run, which } from "./install-sh.js";

/** One package version to publish. */
export interface PublishedPackage {
  /** Its package.json (name, version, dependencies, bin, ...). */
  manifest: { name: string; version: string } & Record<string, unknown>;
  /** Extra files, path inside the package -> content. */
  files?: Record<string, string>;
}

/** A running registry. */
export interface StaticRegistry {
  /** `http://127.0.0.1:<port>/`, for `npm_config_registry`. */
  url: string;
  close(): Promise<void>;
}

/** `npm pack`-shaped tarball bytes (a `package/` folder) of `pkg`, built in `dir`. */
async function tarball(pkg: PublishedPackage, dir: string): Promise<Buffer> {
  const root = path.join(dir, `${pkg.manifest.name.replace("/", "+")}-${pkg.manifest.version}`);
  for (const [file, content] of Object.entries({ ...pkg.files, "package.json": JSON.stringify(pkg.manifest) })) {
    mkdirSync(path.dirname(path.join(root, "package", file)), { recursive: true });
    writeFileSync(path.join(root, "package", file), content);
  }
  await run(which("tar") ?? "tar", ["-czf", `${root}.tgz`, "-C", root, "package"]);
  return readFileSync(`${root}.tgz`);
}

/**
 * Start a registry serving `packages` (the highest version published last is `latest`).
 * @param dir - a scratch folder for the tarballs
 * @param corrupt - names whose tarball is served with a flipped byte (the packument keeps the
 *   true integrity), to prove npm refuses it
 */
export async function startStaticRegistry(packages: PublishedPackage[], dir: string, corrupt: string[] = []): Promise<StaticRegistry> {
  const tarballs = new Map<string, Buffer>();
  const packuments = new Map<string, { name: string; "dist-tags": Record<string, string>; versions: Record<string, unknown> }>();
  const server = createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? "/").slice(1);
    const body = tarballs.get(url) ?? packuments.get(url);
    if (body === undefined) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"Not found"}');
      return;
    }
    if (Buffer.isBuffer(body)) res.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    else res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  for (const pkg of packages) {
    const { name, version } = pkg.manifest;
    const bytes = await tarball(pkg, dir);
    const file = `${name}/-/${name.split("/").pop() ?? name}-${version}.tgz`;
    const served = Buffer.from(bytes);
    if (corrupt.includes(name)) served[served.length - 1] ^= 0xff;
    tarballs.set(file, served);
    const dist = { tarball: base + file, shasum: createHash("sha1").update(bytes).digest("hex"),
      integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}` };
    const packument = packuments.get(name) ?? { name, "dist-tags": {}, versions: {} };
    packument.versions[version] = { ...pkg.manifest, dist };
    packument["dist-tags"]["latest"] = version;
    packuments.set(name, packument);
  }
  return {
    url: base,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
