/** The sagas a runner knows, validated and compiled once (their policies bound to its clock). */
import type { Clock } from '@trellis/core';
import { pivotIndex, type SagaDefinition, validateDefinition } from './definition.js';
import type { CompiledSaga } from './driver.js';
import { SagaDefinitionError } from './errors.js';
import { compileSteps } from './step-runner.js';

/** Name → compiled saga. */
export class SagaRegistry {
  private readonly byName = new Map<
    string,
    { def: SagaDefinition<object, unknown>; compiled: CompiledSaga }
  >();

  /**
   * Registers `def` (again is fine) and returns it compiled.
   *
   * Throws `SagaDefinitionError` when it is invalid, or when another definition already uses
   * its name (two sagas sharing a name would resume each other's instances).
   */
  add(def: SagaDefinition<object, unknown>, clock: Clock): CompiledSaga {
    const known = this.byName.get(def.name);
    if (known) {
      if (known.def !== def) {
        throw new SagaDefinitionError(
          `Another saga is already registered as "${def.name}" (register one instance and reuse it)`,
        );
      }
      return known.compiled;
    }
    validateDefinition(def);
    const compiled: CompiledSaga = {
      name: def.name,
      steps: compileSteps(def.steps, clock),
      pivot: pivotIndex(def),
    };
    this.byName.set(def.name, { def, compiled });
    return compiled;
  }

  get(name: string): CompiledSaga | undefined {
    return this.byName.get(name)?.compiled;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
