// Identity headers sent on the WebSocket handshake and on every HTTP call (agent-protocol.md §2.1).

import { arch, release, type, uptime, version } from 'node:os';

export const AGENT_VERSION = '1.1.9-tatflow';

export function agentHeaders(machineId: string): Record<string, string> {
  const kernelName = type() === 'Windows_NT' ? 'Windows' : type();
  return {
    'Tat-Version': AGENT_VERSION,
    'Tat-Pid': String(process.pid),
    'Tat-KernelName': kernelName,
    'Tat-KernelVersion': release(),
    'Tat-OSVersion': version(),
    'Tat-CPUArch': arch() === 'x64' ? 'x86_64' : arch(),
    'Tat-UptimeSecs': String(Math.floor(uptime())),
    MachineId: machineId,
  };
}
