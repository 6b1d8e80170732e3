/**
 * Supervised processes run in their own process group (so Ctrl-C reaches only the supervisor,
 * which then stops them in order). The price: if the supervisor itself is killed, nothing
 * would stop them. So each one checks every second that its supervisor still exists, and shuts
 * itself down gracefully when it does not.
 */

/**
 * Calls `onGone` once when the process `SHOP_SUPERVISOR_PID` no longer exists. Does nothing
 * when the variable is not set (a process started by hand).
 */
export function watchSupervisor(onGone: () => void, intervalMs = 1000): void {
  const pid = Number(process.env.SHOP_SUPERVISOR_PID);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0);
    } catch {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
}
