// Store errors callers can map to HTTP statuses (409, 404) without knowing the engine underneath.

/** A write collided with a unique constraint: duplicate id, key hash, team name in an org, user email in an org. */
export class GovernanceConflictError extends Error {
  override readonly name = 'GovernanceConflictError';
}

/** An update named a row that does not exist. */
export class GovernanceNotFoundError extends Error {
  override readonly name = 'GovernanceNotFoundError';

  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} not found`);
  }
}

/** better-sqlite3 reports SQLITE_CONSTRAINT_*; PostgreSQL reports SQLSTATE 23505. */
const UNIQUE_VIOLATION_CODES = new Set(['23505', 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY']);

export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && UNIQUE_VIOLATION_CODES.has(String(error.code));
}

/** Runs a write, turning a unique-constraint failure into GovernanceConflictError. */
export async function translateConflicts<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (!isUniqueViolation(error)) throw error;
    throw new GovernanceConflictError(error instanceof Error ? error.message : 'unique constraint violated', { cause: error });
  }
}
