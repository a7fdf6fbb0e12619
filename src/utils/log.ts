/** One log line format for all processes: time, role, message (stderr). */
export function log(role: string, message: string): void {
  if (process.env["SHOAL_QUIET"] === "1") return;
  const t = new Date().toISOString().replace("T", " ").slice(0, 23);
  process.stderr.write(`${t} shoal.${role} ${message}\n`);
}
