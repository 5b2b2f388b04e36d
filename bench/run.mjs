// `npm run bench`: tswren core figures on the localhost backend, and Lithops' localhost backend
// measured in the same run (when it can be installed) with the ratios.
// Flags: --no-peer (skip Lithops), --no-docker (skip the docker column), --big N (calls of the large map, default 100000).
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : fallback;
};

function core(kind, n) {
  const out = execFileSync(process.execPath, [path.join(here, "core.mjs"), kind, String(n)], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(out.trim().split("\n").at(-1));
}

function lithops() {
  if (args.includes("--no-peer")) return { skipped: "--no-peer" };
  const setup = spawnSync("bash", [path.join(here, "lithops/setup.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (setup.status !== 0) return { skipped: `lithops could not be installed: ${(setup.stderr || setup.stdout).trim().split("\n").at(-1)}` };
  const python = setup.stdout.trim().split("\n").at(-1);
  const run = spawnSync(python, [path.join(here, "lithops/peer.py"), "--calls", "1000", "--roundtrips", "50"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 900_000 });
  if (run.status !== 0) return { skipped: `lithops run failed: ${(run.stderr || "").trim().split("\n").at(-1)}` };
  return JSON.parse(run.stdout.trim().split("\n").at(-1));
}

const fmt = (x, d = 3) => (typeof x === "number" ? x.toFixed(d) : "n/a");
const map = core("map", 1000);
const rt = core("roundtrip", 50);
const big = core("bigmap", Number(flag("--big", "100000")));
console.log(`tswren ${"1000-call no-op map".padEnd(34)} ${fmt(map.wallS)} s   (goal <= 0.5 s)`);
console.log(`tswren ${"callAsync round trip (median/50)".padEnd(34)} ${fmt(rt.medianMs, 2)} ms  (goal <= 10 ms)`);
console.log(`tswren ${`${big.calls}-call no-op map`.padEnd(34)} ${fmt(big.wallS, 2)} s, client peak RSS ${fmt(big.peakRssMb, 0)} MB  (goal <= 30 s, <= 300 MB)`);
// The docker column (bench/docker.mjs): its own run of localhost next to docker, same process.
let docker = { skipped: "--no-docker" };
if (!args.includes("--no-docker")) {
  const run = spawnSync(process.execPath, [path.join(here, "docker.mjs")], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 1_200_000 });
  const lines = (run.stdout || "").trim().split("\n").filter((l) => l !== "");
  for (const line of lines.slice(0, -1)) console.log(line);
  if (run.status === 0 && lines.length > 0) docker = JSON.parse(lines.at(-1));
  else {
    docker = { skipped: `bench/docker.mjs failed: ${(run.stderr || "").trim().split("\n").at(-1)}` };
    console.log(`docker: not measured (${docker.skipped})`);
  }
}
const peer = lithops();
const summary = { tswren: { map1000: map, roundtrip: rt, bigmap: big }, lithops: peer, docker };
if ("skipped" in peer) {
  console.log(`lithops: not measured (${peer.skipped})`);
} else {
  const single = peer.map_1000_s?.single;
  console.log(`lithops ${peer.lithops_version} 1000-call map (single runner)      ${fmt(single)} s  -> tswren is ${fmt(single / map.wallS, 1)}x faster`);
  if (peer.map_1000_s?.default !== undefined) console.log(`lithops 1000-call map (default processes)        ${fmt(peer.map_1000_s.default)} s  -> ${fmt(peer.map_1000_s.default / map.wallS, 1)}x`);
  console.log(`lithops call_async round trip (median)          ${fmt(peer.roundtrip_median_s * 1000, 1)} ms -> tswren is ${fmt((peer.roundtrip_median_s * 1000) / rt.medianMs, 1)}x faster`);
}
console.log(JSON.stringify(summary));
