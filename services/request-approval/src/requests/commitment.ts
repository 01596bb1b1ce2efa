import { createHash } from 'node:crypto';
import { referenceData } from '@gdx/codes';
import { ValidationError } from '@gdx/errors';

export interface CurrentCommitment {
  version: string;
  title: string;
  text: string;
  sha256: string;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The commitment (承诺书) in force; its hash is what an acceptance is checked against. */
export function currentCommitment(): CurrentCommitment {
  const c = referenceData().commitment;
  return { version: c.version, title: c.title, text: c.text, sha256: sha256Hex(c.text) };
}

/**
 * The applicant proves what it showed the signer: the exact text, or its SHA-256.
 * Anything else (an older version, an edited text, a hash of something else) is
 * refused, so a stored acceptance always names the text actually in force.
 */
export function checkAcceptance(input: { version: string; text?: string; sha256?: string }): CurrentCommitment {
  const current = currentCommitment();
  if (input.version !== current.version) {
    throw new ValidationError(`The commitment in force is version ${current.version}; show the signer that one.`, { field: 'body.commitment.version' }, 'COMMITMENT_OUTDATED');
  }
  if (input.text === undefined && input.sha256 === undefined) {
    throw new ValidationError('Send the commitment text the signer accepted, or its SHA-256.', { field: 'body.commitment.text' }, 'COMMITMENT_REQUIRED');
  }
  if (input.text !== undefined && sha256Hex(input.text) !== current.sha256) {
    throw new ValidationError('The text accepted is not the commitment in force.', { field: 'body.commitment.text' }, 'COMMITMENT_MISMATCH');
  }
  if (input.sha256 !== undefined && input.sha256.toLowerCase() !== current.sha256) {
    throw new ValidationError('The hash sent is not that of the commitment in force.', { field: 'body.commitment.sha256' }, 'COMMITMENT_MISMATCH');
  }
  return current;
}
