// Error rendering in Anthropic's shape, and zod issues → a bad_request naming the field path.
import type { z } from 'zod';
import { badRequest, type GatewayError } from '../../core/errors.ts';

type Issue = z.core.$ZodIssue;

export function renderAnthropicError(err: GatewayError): ReturnType<GatewayError['toAnthropic']> {
  return err.toAnthropic();
}

/** Dotted path as clients write it: `messages.0.content.1.type`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

export function zodBadRequest(error: z.ZodError): GatewayError {
  const { issue, path } = mostSpecific(error.issues[0], []);
  const where = formatPath(path);
  return badRequest(where ? `${where}: ${describe(issue)}` : describe(issue), where || undefined);
}

/**
 * A union (string-or-blocks content) fails as a whole; the useful issue is inside the branch that got
 * furthest, i.e. whose own most specific issue has the longest path.
 */
function mostSpecific(issue: Issue, prefix: PropertyKey[]): { issue: Issue; path: PropertyKey[] } {
  const path = [...prefix, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { issue, path };
  let best: { issue: Issue; path: PropertyKey[] } | undefined;
  for (const branch of issue.errors) {
    if (branch.length === 0) continue;
    const candidate = mostSpecific(branch[0], path);
    if (!best || candidate.path.length > best.path.length) best = candidate;
  }
  return best ?? { issue, path };
}

function describe(issue: Issue): string {
  if (issue.code === 'invalid_union' && issue.discriminator !== undefined && 'options' in issue && issue.options) {
    return `unsupported ${issue.discriminator}; expected one of ${issue.options.map((o) => `'${String(o)}'`).join(', ')}`;
  }
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return 'field required';
  return issue.message;
}
