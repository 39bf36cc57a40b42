/**
 * Resolves or rejects as `promise` does, or rejects naming `what` if it has not settled after `timeoutMs`: for
 * tests whose bug would be a promise that never settles (the failure then says so instead of a runner timeout).
 */
export async function settlesWithin<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} (still unsettled after ${timeoutMs} ms)`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
