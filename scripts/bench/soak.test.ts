import { describe, expect, it } from 'vitest';
import { formatSoak, type SoakWindow } from './soak.ts';

const window = (atMinutes: number, cpu: number, rows: number): SoakWindow => ({
  atMinutes,
  requests: 6000,
  rps: 200,
  p99: 400,
  errors: 0,
  cpuUsPerRequest: cpu,
  pgCpuUsPerRequest: 600,
  bytesPerResponse: 11_000,
  rssMb: 170,
  auditIndexBlocksPerRequest: 9.3,
  auditIndexReadsPerRequest: 0.85,
  audit: {
    rows,
    heapMb: 1000,
    indexMb: 100,
    rollupMb: 0.5,
    rollupDeadRows: 7000,
    indexBlocksHit: 0,
    indexBlocksRead: 0,
  },
});

describe('the soak series', () => {
  it('prints one line per window, with its CPU per search and the audit rows then', () => {
    const text = formatSoak({
      minutes: 1,
      windowSeconds: 30,
      windows: [window(0.5, 1247, 519_107), window(1, 1046, 523_510)],
      firstMb: 170,
      lastMb: 171,
      growthPercent: 0.6,
    });
    const lines = text.split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('CPU µs/req');
    expect(lines[2]).toMatch(/^\s*0\.5\s+200\s+400\.0\s+1247\s+600\s+11000\s.*519107/);
    expect(lines[3]).toMatch(/^\s*1\.0\s+200\s+400\.0\s+1046\s/);
  });
});
