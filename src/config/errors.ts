// The one error the configuration module throws: every problem found, each with its path and line.

export interface ConfigIssue {
  /** Dotted path of the offending field, e.g. `models[0].deployments[0].provider`; empty for the whole file. */
  path: string;
  /** 1-based line in the source; absent when it cannot be located (e.g. an empty file). */
  line?: number;
  message: string;
}

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  /** File path (or other source name) the issues refer to. */
  readonly source: string;

  constructor(source: string, issues: ConfigIssue[]) {
    const sorted = [...issues].sort(byLine);
    super(formatIssues(source, sorted));
    this.name = 'ConfigError';
    this.source = source;
    this.issues = sorted;
  }
}

/** `switchyard.yaml:12: models[0].deployments[0].provider: unknown provider "foo"` */
export function formatIssue(source: string, issue: ConfigIssue): string {
  const location = issue.line === undefined ? source : `${source}:${issue.line}`;
  return issue.path ? `${location}: ${issue.path}: ${issue.message}` : `${location}: ${issue.message}`;
}

function formatIssues(source: string, issues: ConfigIssue[]): string {
  const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
  return [`invalid configuration (${count}):`, ...issues.map((issue) => formatIssue(source, issue))].join('\n');
}

function byLine(a: ConfigIssue, b: ConfigIssue): number {
  return (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER);
}

/** Renders a path as written in messages: `models[0].deployments[1].provider`, `headers["x.y"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_][\w-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}
