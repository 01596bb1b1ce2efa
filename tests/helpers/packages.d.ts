/** Types of packages.js (plain CommonJS, since jest.config.js and eslint.config.js load it too). */
export interface ExportTarget {
  types?: string;
  default: string;
}
export interface WorkspacePackage {
  name: string;
  /** Relative to the repository root, posix separators: `libs/codes`, `scripts`. */
  dir: string;
  /** The package.json "exports" map, subpath → target (a string target is read as { default }). */
  exports: Record<string, ExportTarget>;
  dependencies: Record<string, string>;
}
export const ROOT: string;
export function readJson(
  file: string,
): Record<string, unknown> & { name?: string; main?: string; types?: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string>; exports?: unknown };
export function workspaceDirs(root?: string): string[];
export function workspacePackages(root?: string): WorkspacePackage[];
export function entryPoints(root?: string): { specifier: string; source: string }[];
export function sourceOf(target: string): string;
