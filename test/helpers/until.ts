/** Waits for a condition that something else (a daemon, a child process) reaches on its own. */
export async function until(
  check: () => Promise<boolean> | boolean,
  what = 'condition',
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached in time`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
