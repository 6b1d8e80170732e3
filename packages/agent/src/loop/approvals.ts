/**
 * Deciding pending approvals. A decision is recorded on the run (who, when, why) and saved
 * with a version check, so two approvers racing cannot both win, and a decision survives a
 * restart like the rest of the run.
 */
import { type Clock, ConflictError, ForbiddenError, ValidationError } from '@trellis/core';
import { z } from 'zod';
import type { Principal } from '../identity.js';
import type { AgentRunRecord, PendingApproval } from '../store/run-record.js';

/** One decision, as a caller submits it. */
export interface ApprovalDecisionInput {
  approvalId: string;
  approve: boolean;
  /** Why (a rejection reason is shown to the model). */
  reason?: string;
}

/** Schema of a list of decisions (e.g. an HTTP body's `decisions`). */
export const approvalDecisionsSchema = z
  .array(
    z.object({
      approvalId: z.string().min(1),
      approve: z.boolean(),
      reason: z.string().max(1000).optional(),
    }),
  )
  .min(1);

/** Who may decide an approval. Default: the run's own user, or anyone holding `agent:approve:any`. */
export type CanApprove = (approver: Principal, run: AgentRunRecord, approval: PendingApproval) => boolean;

/** Permissions the agent itself checks. */
export const AGENT_PERMISSIONS = {
  /** Decide approvals of other users' runs (staff). */
  approveAny: 'agent:approve:any',
  /** List and inspect other users' runs (support, audit). */
  readAnyRun: 'agent:runs:read:any',
} as const;

/** The default {@link CanApprove}. */
export const ownerOrApprover: CanApprove = (approver, run) =>
  approver.id === run.userId || approver.can(AGENT_PERMISSIONS.approveAny);

/**
 * Applies decisions to a paused run (in memory; the caller saves).
 *
 * Throws `ValidationError` for malformed decisions or an unknown approval id,
 * `ConflictError` when the run is not awaiting approval or an approval was already decided
 * the other way, `ForbiddenError` when `approver` may not decide.
 */
export function applyDecisions(
  record: AgentRunRecord,
  approver: Principal,
  decisions: readonly ApprovalDecisionInput[],
  canApprove: CanApprove,
  clock: Clock,
): AgentRunRecord {
  const parsed = approvalDecisionsSchema.safeParse(decisions);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'decisions');
  if (record.status !== 'awaiting_approval' || !record.pending) {
    throw new ConflictError(`Run ${record.id} is ${record.status}, not awaiting approval`);
  }
  const approvals = record.pending.approvals;
  parsed.data.forEach((d, i) => {
    const approval = approvals.find((a) => a.id === d.approvalId);
    if (!approval) {
      const path = `decisions.${i}.approvalId`;
      throw new ValidationError(
        `Invalid decisions at "${path}": no pending approval ${d.approvalId} on run ${record.id}`,
        [{ path, message: 'no such pending approval' }],
      );
    }
    if (!canApprove(approver, record, approval)) {
      throw new ForbiddenError(`Not allowed to decide approval ${approval.id}`);
    }
    if (approval.decision) {
      if (approval.decision.approved === d.approve) return;
      throw new ConflictError(
        `Approval ${approval.id} was already ${approval.decision.approved ? 'approved' : 'rejected'}`,
      );
    }
    approval.decision = {
      approved: d.approve,
      decidedBy: approver.id,
      decidedAt: clock.now(),
      ...(d.reason ? { reason: d.reason } : {}),
    };
  });
  return record;
}
