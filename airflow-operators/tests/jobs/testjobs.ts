/** Job functions for the tswren-airflow tests (airflow-operators/tests). */

/** x squared. */
export function square(x: number): number {
  return x * x;
}

/** x + y of an object input. */
export function add(o: { x: number; y: number }): number {
  return o.x + o.y;
}

/** Sum of the map results. */
export function total(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Describes the call's input (call-async with data_from_task). */
export function describe(data: { name: string; values: number[] }): string {
  return `${data.name}: ${data.values.join("+")} = ${total(data.values)}`;
}

/** The value of an environment variable in the function (extra_env). */
export function readEnv(name: string): string | null {
  return process.env[name] ?? null;
}

/** Fails for input 2. */
export function failOnTwo(x: number): number {
  if (x === 2) throw new RangeError(`cannot take ${x}`);
  return x;
}

/** Never ends on its own (on_kill). */
export function hang(): Promise<never> {
  return new Promise(() => undefined);
}

/** Line count of a data-job part (MinIO). */
export async function lineCount(part: { text(): Promise<string> }): Promise<number> {
  return (await part.text()).split("\n").filter((l) => l !== "").length;
}
