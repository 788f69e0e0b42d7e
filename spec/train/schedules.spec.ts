import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as E from 'fp-ts/lib/Either.js';
import { formatScheduleError, lrAt, validateSchedule, type Schedule } from '../../src/train/schedules.ts';

describe('learning-rate schedules', () => {
  it('constant', () => {
    assert.deepEqual([0, 1, 1000].map((i) => lrAt({ kind: 'constant' }, 0.1, i)), [0.1, 0.1, 0.1]);
  });

  it('step: gamma^⌊i / every⌋ (StepLR closed form)', () => {
    const s: Schedule = { kind: 'step', every: 10, gamma: 0.5 };
    assert.deepEqual([0, 9, 10, 19, 20, 25].map((i) => lrAt(s, 0.1, i)), [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]);
  });

  it('cosine: base at 0, midpoint halfway, minLr at and after total', () => {
    const s: Schedule = { kind: 'cosine', total: 100, minLr: 0.01 };
    assert.equal(lrAt(s, 0.1, 0), 0.1);
    assert.ok(Math.abs(lrAt(s, 0.1, 50) - 0.055) < 1e-15);
    assert.equal(lrAt(s, 0.1, 100), 0.01);
    assert.equal(lrAt(s, 0.1, 5000), 0.01);
    // CosineAnnealingLR: η_min + (η₀ − η_min)(1 + cos(π t / T))/2
    assert.equal(lrAt(s, 0.1, 30), 0.01 + ((0.1 - 0.01) * (1 + Math.cos((Math.PI * 30) / 100))) / 2);
    for (let i = 1; i < 120; i++) assert.ok(lrAt(s, 0.1, i) <= lrAt(s, 0.1, i - 1), `not decreasing at ${i}`);
  });

  it('cosine with warmup: linear ramp to base over `warmup` iterations, then the cosine over the rest', () => {
    const s: Schedule = { kind: 'cosine', total: 110, warmup: 10 };
    assert.deepEqual([0, 4, 9].map((i) => lrAt(s, 1, i)), [0.1, 0.5, 1]);
    assert.equal(lrAt(s, 1, 10), 1);
    assert.ok(Math.abs(lrAt(s, 1, 60) - 0.5) < 1e-15);
    assert.equal(lrAt(s, 1, 110), 0);
  });

  it('validateSchedule rejects unusable fields; lrAt stays total on them', () => {
    const msg = (s: Schedule): string => {
      const r = validateSchedule(s);
      return E.isLeft(r) ? formatScheduleError(r.left) : 'ok';
    };
    assert.equal(msg({ kind: 'step', every: 0, gamma: 0.5 }), 'invalid schedule field every = 0: must be an integer ≥ 1');
    assert.match(msg({ kind: 'step', every: 2, gamma: -1 }), /gamma/);
    assert.match(msg({ kind: 'cosine', total: 10, warmup: 10 }), /total = 10: must be an integer greater than warmup \(10\)/);
    assert.match(msg({ kind: 'cosine', total: 10, minLr: NaN }), /minLr/);
    assert.equal(msg({ kind: 'cosine', total: 10, warmup: 3, minLr: 0 }), 'ok');
    assert.ok(Number.isFinite(lrAt({ kind: 'step', every: 0, gamma: 0.5 }, 0.1, 3)));
    assert.ok(Number.isFinite(lrAt({ kind: 'cosine', total: 5, warmup: 5 }, 0.1, 7)));
    assert.equal(lrAt({ kind: 'step', every: 10, gamma: 0.5 }, 0.1, -3), 0.1);
  });
});
