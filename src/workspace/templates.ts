import { promises as fs } from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

/**
 * Workspace templates: each is a directory under TEMPLATES_DIR whose files are copied into a new
 * workspace, with an optional `template.json` describing it. Template names come from the model
 * (create_workspace, read_template), so they are validated as plain directory names before any
 * path is built from them.
 */

/** The metadata file of a template; it describes the template and is not copied. */
export const TEMPLATE_METADATA_FILE = 'template.json';
/** A name is one path segment: no separators, no `..`, no hidden directories. */
const TEMPLATE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;
/** Startup scripts run longer than this are killed and reported as timed out. */
export const DEFAULT_STARTUP_TIMEOUT_SECONDS = 300;
const MAX_STARTUP_TIMEOUT_SECONDS = 3_600;
/** read_template lists at most this many files, so a big template cannot flood the context. */
export const MAX_LISTED_FILES = 200;
/** read_template returns at most this much of the README. */
export const MAX_README_BYTES = 8 * 1024;
const README_NAMES = ['README.md', 'README', 'README.txt'];

const metadataSchema = z.strictObject({
  displayName: z.string().min(1).max(100).optional(),
  description: z.string().max(1_000).optional(),
  /** Relative path of a script inside the template, run with /bin/sh in the new workspace. */
  startupScript: z
    .string()
    .regex(/^[a-zA-Z0-9_./-]+$/, 'must be a relative path of letters, digits and ._-/')
    .refine(
      (value) => !value.startsWith('/') && !value.split('/').includes('..'),
      'must stay inside the template',
    )
    .optional(),
  startupTimeoutSeconds: z.number().int().positive().max(MAX_STARTUP_TIMEOUT_SECONDS).optional(),
});

export interface TemplateSummary {
  name: string;
  displayName: string;
  description: string;
}

export interface TemplateDetails extends TemplateSummary {
  /** Absolute path of the template directory. */
  directory: string;
  /** Relative path of the startup script, or null when the template has none. */
  startupScript: string | null;
  startupTimeoutSeconds: number;
}

/** NOT_ALLOWED: the deployment's template allowlist leaves it out (issue #13). */
export type TemplateErrorCode = 'INVALID_NAME' | 'NOT_FOUND' | 'INVALID_TEMPLATE' | 'NOT_ALLOWED';

/** An expected failure; the message is written to be shown to the model as it is. */
export class TemplateError extends Error {
  override name = 'TemplateError';
  constructor(
    readonly code: TemplateErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isValidTemplateName(name: string): boolean {
  return TEMPLATE_NAME.test(name);
}

/**
 * Every valid template, sorted by name; `query` keeps those whose name, display name or
 * description contains it (case-insensitive). A template with a broken template.json is left out
 * and reported to `onInvalid`, so one bad template does not hide the others.
 */
export async function listTemplates(
  templatesDir: string,
  options: { query?: string; onInvalid?: (name: string, error: TemplateError) => void } = {},
): Promise<TemplateSummary[]> {
  let entries: string[];
  try {
    entries = await fs.readdir(templatesDir);
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  const query = options.query?.trim().toLowerCase() ?? '';
  const templates: TemplateSummary[] = [];
  for (const name of entries.filter(isValidTemplateName).sort()) {
    let template: TemplateDetails;
    try {
      template = await readTemplate(templatesDir, name);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      // A plain file beside the templates (say a README) is not a broken template.
      if (error.code !== 'NOT_FOUND') options.onInvalid?.(name, error);
      continue;
    }
    const haystack = `${name}\n${template.displayName}\n${template.description}`.toLowerCase();
    if (query && !haystack.includes(query)) continue;
    templates.push({
      name: template.name,
      displayName: template.displayName,
      description: template.description,
    });
  }
  return templates;
}

/** One template's metadata; throws TemplateError for a bad name, a missing or broken template. */
export async function readTemplate(templatesDir: string, name: string): Promise<TemplateDetails> {
  const directory = templateDirectory(templatesDir, name);
  const stats = await fs.stat(directory).catch((error: unknown) => {
    if (isNotFound(error)) return undefined;
    throw error;
  });
  if (!stats?.isDirectory()) {
    throw new TemplateError(
      'NOT_FOUND',
      `Template not found: ${name}. Use list_templates to see the available ones.`,
    );
  }

  let raw: string | undefined;
  try {
    raw = await fs.readFile(path.join(directory, TEMPLATE_METADATA_FILE), 'utf8');
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  let metadata: z.infer<typeof metadataSchema> = {};
  if (raw !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (error) {
      throw invalid(name, error instanceof Error ? error.message : String(error));
    }
    const parsed = metadataSchema.safeParse(json);
    if (!parsed.success) {
      throw invalid(
        name,
        parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '),
      );
    }
    metadata = parsed.data;
  }

  if (metadata.startupScript !== undefined) {
    const script = await fs.stat(path.join(directory, metadata.startupScript)).catch(() => null);
    if (!script?.isFile()) {
      throw invalid(name, `startupScript ${metadata.startupScript} is not a file in the template`);
    }
  }
  return {
    name,
    displayName: metadata.displayName ?? name,
    description: metadata.description ?? '',
    directory,
    startupScript: metadata.startupScript ?? null,
    startupTimeoutSeconds: metadata.startupTimeoutSeconds ?? DEFAULT_STARTUP_TIMEOUT_SECONDS,
  };
}

/**
 * The template's files (relative paths, sorted, directories walked, template.json left out), at
 * most MAX_LISTED_FILES of them; `truncated` says whether more exist.
 */
export async function listTemplateFiles(
  template: Pick<TemplateDetails, 'directory'>,
): Promise<{ files: string[]; truncated: boolean }> {
  const files: string[] = [];
  let truncated = false;
  const walk = async (relative: string): Promise<void> => {
    const entries = await fs.readdir(path.join(template.directory, relative), {
      withFileTypes: true,
    });
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const child = relative ? `${relative}/${entry.name}` : entry.name;
      if (!relative && entry.name === TEMPLATE_METADATA_FILE) continue;
      if (entry.isDirectory()) {
        await walk(child);
      } else if (files.length < MAX_LISTED_FILES) {
        files.push(child);
      } else {
        truncated = true;
        return;
      }
      if (truncated) return;
    }
  };
  await walk('');
  return { files, truncated };
}

/** The template's README (first MAX_README_BYTES), or null when it has none. */
export async function readTemplateReadme(
  template: Pick<TemplateDetails, 'directory'>,
): Promise<{ name: string; content: string; truncated: boolean } | null> {
  for (const name of README_NAMES) {
    let data: Buffer;
    try {
      data = await fs.readFile(path.join(template.directory, name));
    } catch (error) {
      if (isNotFound(error)) continue;
      throw error;
    }
    const truncated = data.length > MAX_README_BYTES;
    return {
      name,
      // Decoding a cut multi-byte character yields U+FFFD at the end, which is harmless here.
      content: data.subarray(0, MAX_README_BYTES).toString('utf8'),
      truncated,
    };
  }
  return null;
}

/**
 * Copies the template's files (not template.json) into `target`, which must not exist yet.
 * Symlinks are copied as they are; the workspace agent refuses any that lead outside.
 */
export async function copyTemplate(
  template: Pick<TemplateDetails, 'directory'>,
  target: string,
): Promise<void> {
  const metadata = path.join(template.directory, TEMPLATE_METADATA_FILE);
  await fs.cp(template.directory, target, {
    recursive: true,
    errorOnExist: true,
    force: false,
    verbatimSymlinks: true,
    filter: (source) => source !== metadata,
  });
}

function templateDirectory(templatesDir: string, name: string): string {
  if (!isValidTemplateName(name)) {
    throw new TemplateError(
      'INVALID_NAME',
      `Invalid template name ${JSON.stringify(name)}: use a name exactly as list_templates shows it`,
    );
  }
  return path.join(path.resolve(templatesDir), name);
}

const invalid = (name: string, reason: string) =>
  new TemplateError('INVALID_TEMPLATE', `Template ${name} has an invalid template.json: ${reason}`);

function isNotFound(error: unknown): boolean {
  return (
    error instanceof Error &&
    'code' in error &&
    (error.code === 'ENOENT' || error.code === 'ENOTDIR')
  );
}
