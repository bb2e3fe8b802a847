import { describe, expect, it } from 'vitest';
import { parseProcStat, processesCpuSeconds, processTreeCpuSeconds } from './process-cpu.ts';

describe('process CPU from /proc', () => {
  it('reads pid, parent and utime + stime, whatever the command name holds', () => {
    const line =
      '4242 (node (worker) x) S 4200 4242 4200 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 1000 0 0';
    expect(parseProcStat(line)).toEqual({ pid: 4242, ppid: 4200, ticks: 300 });
  });

  it.runIf(process.platform === 'linux')('counts this process', async () => {
    const before = (await processTreeCpuSeconds(process.pid)) ?? 0;
    const end = Date.now() + 60;
    while (Date.now() < end) Math.sqrt(Math.random());
    const after = (await processTreeCpuSeconds(process.pid)) ?? 0;
    expect(after).toBeGreaterThan(before);
  });

  it.runIf(process.platform === 'linux')('counts listed processes, and none that ended', async () => {
    const before = (await processesCpuSeconds([process.pid, 2 ** 22 + 1])) ?? 0;
    const end = Date.now() + 60;
    while (Date.now() < end) Math.sqrt(Math.random());
    const after = (await processesCpuSeconds([process.pid, 2 ** 22 + 1])) ?? 0;
    expect(after).toBeGreaterThan(before);
    expect(await processesCpuSeconds([])).toBe(0);
  });
});
