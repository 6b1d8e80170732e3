/**
 * Record and replay of real provider sessions. `RecordingModel` wraps a real provider and
 * writes every request, streamed delta and response to a JSON cassette; `ReplayModel` serves
 * the cassette back, deterministically and offline, and fails with `CassetteMismatchError`
 * the moment a request differs from the recorded one. A captured conversation becomes a
 * regression test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { CassetteMismatchError } from '../errors.js';
import type { ModelDelta, ModelRequest, ModelResponse } from '../messages.js';
import type { GenerateOptions, ModelProvider } from './provider.js';

/** One recorded model call. */
export interface CassetteInteraction {
  request: ModelRequest;
  deltas: ModelDelta[];
  response: ModelResponse;
}

/** A recorded session. */
export interface Cassette {
  version: 1;
  provider: string;
  model: string;
  interactions: CassetteInteraction[];
}

const cassetteSchema = z.object({
  version: z.literal(1),
  provider: z.string(),
  model: z.string(),
  interactions: z.array(
    z.object({ request: z.looseObject({}), deltas: z.array(z.looseObject({})), response: z.looseObject({}) }),
  ),
});

/** Maps a request to what is compared (default: the whole request). */
export type RequestNormalizer = (request: ModelRequest) => unknown;

/**
 * Wraps a real provider and records its session to `file` (rewritten atomically after every
 * call, so a crash leaves a valid cassette of the calls so far).
 *
 * @example
 * ```ts
 * const model = new RecordingModel(modelFromEnv(), 'test/cassettes/cancel-order.json');
 * ```
 */
export class RecordingModel implements ModelProvider {
  readonly provider: string;
  readonly model: string;
  readonly cassette: Cassette;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly inner: ModelProvider,
    private readonly file: string,
  ) {
    this.provider = inner.provider;
    this.model = inner.model;
    this.cassette = { version: 1, provider: inner.provider, model: inner.model, interactions: [] };
  }

  async generate(request: ModelRequest, options: GenerateOptions = {}): Promise<ModelResponse> {
    const snapshot = structuredClone(request);
    const deltas: ModelDelta[] = [];
    const response = await this.inner.generate(request, {
      ...options,
      onDelta: (d) => {
        deltas.push(d);
        options.onDelta?.(d);
      },
    });
    this.cassette.interactions.push({ request: snapshot, deltas, response: structuredClone(response) });
    await this.flush();
    return response;
  }

  /** Resolves when the cassette on disk holds every call made so far. */
  flush(): Promise<void> {
    const text = `${JSON.stringify(this.cassette, null, 2)}\n`;
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, text);
      await rename(tmp, this.file);
    });
    return this.writing;
  }
}

/**
 * Serves a recorded cassette: each request must equal the recorded one (after `normalize`),
 * the recorded deltas are streamed, and the recorded response returned.
 *
 * Throws `CassetteMismatchError` (from `generate`) naming the interaction and the first
 * differing path, or when the cassette has no more interactions.
 */
export class ReplayModel implements ModelProvider {
  readonly provider = 'cassette';
  readonly model: string;
  private next = 0;

  constructor(
    readonly cassette: Cassette,
    private readonly normalize: RequestNormalizer = (r) => r,
  ) {
    this.model = cassette.model;
  }

  /** Loads a cassette file. Throws `ValidationError`-like `CassetteMismatchError` when it is not one. */
  static fromFile(file: string, normalize?: RequestNormalizer): ReplayModel {
    const parsed = cassetteSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success)
      throw new CassetteMismatchError(`${file} is not a Trellis cassette: ${parsed.error.message}`);
    return new ReplayModel(parsed.data as unknown as Cassette, normalize);
  }

  /** Interactions not yet replayed. */
  remaining(): number {
    return this.cassette.interactions.length - this.next;
  }

  /** Throws `CassetteMismatchError` unless every recorded interaction was replayed. */
  assertDone(): void {
    if (this.remaining() !== 0) {
      throw new CassetteMismatchError(
        `Cassette: ${this.remaining()} recorded interactions were never requested`,
      );
    }
  }

  async generate(request: ModelRequest, options: GenerateOptions = {}): Promise<ModelResponse> {
    const index = this.next++;
    const recorded = this.cassette.interactions[index];
    if (!recorded) {
      throw new CassetteMismatchError(
        `Cassette: unexpected request #${index + 1}; only ${this.cassette.interactions.length} were recorded`,
      );
    }
    const path = firstDifference(
      this.normalize(recorded.request),
      this.normalize(structuredClone(request)),
      '',
    );
    if (path !== undefined) {
      throw new CassetteMismatchError(
        `Cassette: request #${index + 1} differs from the recording at "${path || '(root)'}"`,
        {
          details: { interaction: index, path },
        },
      );
    }
    for (const d of recorded.deltas) options.onDelta?.(d);
    return structuredClone(recorded.response);
  }
}

/**
 * A cassette-backed model for tests: replays `file` when it exists; records it through
 * `real()` when it does not, or when `record` is true (e.g. `TRELLIS_AGENT_RECORD=1`).
 */
export function cassetteModel(
  file: string,
  real: () => ModelProvider,
  options: { record?: boolean; normalize?: RequestNormalizer } = {},
): RecordingModel | ReplayModel {
  if (!options.record && existsSync(file)) return ReplayModel.fromFile(file, options.normalize);
  return new RecordingModel(real(), file);
}

function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (
    typeof a !== 'object' ||
    typeof b !== 'object' ||
    a === null ||
    b === null ||
    Array.isArray(a) !== Array.isArray(b)
  ) {
    return path;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const diff = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (diff !== undefined) return diff;
    }
    return undefined;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set(
    [...Object.keys(ao), ...Object.keys(bo)].filter((k) => ao[k] !== undefined || bo[k] !== undefined),
  );
  for (const key of [...keys].sort()) {
    const diff = firstDifference(ao[key], bo[key], path ? `${path}.${key}` : key);
    if (diff !== undefined) return diff;
  }
  return undefined;
}
