// Who runs the CLI, for the records a run keeps (who started it, who approved or aborted): the
// login name, or $USER when the process's uid has no passwd entry (an arbitrary container uid,
// where os.userInfo() throws).

import { userInfo } from 'node:os';

export function loginName(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER || process.env.LOGNAME || `uid ${process.getuid?.() ?? 'unknown'}`;
  }
}
