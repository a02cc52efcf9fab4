import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';

import { AgentRequestError, badRequest, errnoCode, fsRequestError } from './errors.js';
import type { Workspace } from './paths.js';
import { incompleteSuffixLength } from './utf8.js';
import type {
  DirectoryEntry,
  DirectoryEntryType,
  EditFilesRequest,
  EditFilesResponse,
  ListDirectoryRequest,
  ListDirectoryResponse,
  ReadFileRequest,
  ReadFileResponse,
  WriteFileRequest,
  WriteFileResponse,
} from './protocol.js';

/** Most bytes of content one read returns; page through bigger files with offset/limit. */
export const MAX_READ_BYTES = 256 * 1024;
const NEWLINE = 0x0a;
/** Random bytes in a temporary file's name, so concurrent writes never share one. */
const TEMP_NAME_RANDOM_BYTES = 6;

/**
 * Reads the requested lines, streaming the file so a large one costs memory for the returned
 * range only (the whole file is still scanned to count its lines).
 */
export async function readFile(
  workspace: Workspace,
  request: ReadFileRequest,
): Promise<ReadFileResponse> {
  const real = await workspace.resolve(request.path);
  const startLine = request.offset ?? 1;
  const lastWanted = request.limit === undefined ? Infinity : startLine + request.limit - 1;

  const kept: Buffer[] = [];
  let keptBytes = 0;
  let truncated = false;
  let endLine = startLine - 1;
  let line = 1;
  let fileBytes = 0;
  let endsWithNewline = false;
  try {
    for await (const chunk of createReadStream(real) as AsyncIterable<Buffer>) {
      fileBytes += chunk.length;
      endsWithNewline = chunk[chunk.length - 1] === NEWLINE;
      let position = 0;
      while (position < chunk.length) {
        const newline = chunk.indexOf(NEWLINE, position);
        const pieceEnd = newline === -1 ? chunk.length : newline + 1;
        if (line >= startLine && line <= lastWanted && !truncated) {
          const piece = chunk.subarray(position, pieceEnd);
          const room = MAX_READ_BYTES - keptBytes;
          if (piece.length <= room) {
            kept.push(piece);
            keptBytes += piece.length;
          } else {
            kept.push(piece.subarray(0, room));
            truncated = true;
          }
          endLine = line;
        }
        if (newline !== -1) line += 1;
        position = pieceEnd;
      }
    }
  } catch (error) {
    fsRequestError(error, request.path);
  }

  const totalLines = fileBytes === 0 ? 0 : endsWithNewline ? line - 1 : line;
  const emptyFileFromStart = totalLines === 0 && startLine === 1;
  if (startLine > totalLines && !emptyFileFromStart) {
    throw badRequest(`offset ${startLine} is past the end of the file (${totalLines} lines)`);
  }
  let content = Buffer.concat(kept);
  // The cap may fall inside a character (possibly one begun in an earlier piece): drop its start.
  if (truncated) content = content.subarray(0, content.length - incompleteSuffixLength(content));
  return {
    path: workspace.display(real),
    content: content.toString('utf8'),
    totalLines,
    startLine,
    endLine,
    truncated,
  };
}

export async function writeFile(
  workspace: Workspace,
  request: WriteFileRequest,
): Promise<WriteFileResponse> {
  const real = await workspace.resolve(request.path);
  const data = Buffer.from(request.content, request.encoding ?? 'utf8');
  try {
    await fs.mkdir(path.dirname(real), { recursive: true });
    const temp = await writeTemp(real, data);
    if (request.overwrite === false) await commitTempExclusive(temp, real, request.path);
    else await commitTemp(temp, real);
  } catch (error) {
    if (error instanceof AgentRequestError) throw error;
    fsRequestError(error, request.path);
  }
  return { path: workspace.display(real), bytes: data.length };
}

interface PlannedFile {
  real: string;
  content: string;
  replacements: number;
}

/**
 * All edits are checked against the files' current content before anything is written, then every
 * result goes to a temporary file, and only when all of those exist are they renamed over the
 * originals: a failed edit or a failed write leaves every file as it was. (A rename failing midway
 * through the last step could still leave some files renamed; renames within one directory do not
 * fail short of the disk vanishing.)
 */
export async function editFiles(
  workspace: Workspace,
  request: EditFilesRequest,
): Promise<EditFilesResponse> {
  // Keyed by real path so two entries naming one file (or a symlink and its target) chain.
  const plans = new Map<string, PlannedFile>();
  const results: EditFilesResponse['files'] = [];

  for (const [fileIndex, file] of request.files.entries()) {
    const real = await workspace.resolve(file.path);
    let plan = plans.get(real);
    if (!plan) {
      let content: string;
      try {
        content = await fs.readFile(real, 'utf8');
      } catch (error) {
        fsRequestError(error, file.path);
      }
      plan = { real, content, replacements: 0 };
      plans.set(real, plan);
    }
    let replacements = 0;
    for (const [editIndex, edit] of file.edits.entries()) {
      const applied = applyEdit(plan.content, edit.search, edit.replace, edit.replaceAll ?? false);
      if (typeof applied === 'number') {
        const details = { path: file.path, fileIndex, editIndex, occurrences: applied };
        const where = `files[${fileIndex}].edits[${editIndex}] (${file.path})`;
        if (applied === 0) {
          throw new AgentRequestError(
            'EDIT_NOT_FOUND',
            `${where}: search text not found; no file was changed`,
            details,
          );
        }
        throw new AgentRequestError(
          'CONFLICT',
          `${where}: search text occurs ${applied} times; make it unique or set replaceAll. ` +
            'No file was changed',
          details,
        );
      }
      plan.content = applied.content;
      replacements += applied.replacements;
    }
    results.push({ path: workspace.display(real), replacements });
  }

  const temps: Array<{ temp: string; real: string }> = [];
  let current = workspace.root; // the file being written, for the error message
  try {
    for (const plan of plans.values()) {
      current = plan.real;
      temps.push({
        temp: await writeTemp(plan.real, Buffer.from(plan.content, 'utf8')),
        real: plan.real,
      });
    }
    for (const { temp, real } of temps) {
      current = real;
      await commitTemp(temp, real);
    }
  } catch (error) {
    await Promise.all(temps.map(({ temp }) => fs.rm(temp, { force: true })));
    fsRequestError(error, workspace.display(current));
  }
  return { files: results };
}

/**
 * The edited content, or — when the edit cannot apply — how often `search` occurs. Overlapping
 * matches count, since they make the place to edit just as ambiguous.
 */
function applyEdit(
  content: string,
  search: string,
  replace: string,
  replaceAll: boolean,
): { content: string; replacements: number } | number {
  const first = content.indexOf(search);
  if (first === -1) return 0;
  if (replaceAll) {
    const parts = content.split(search);
    return { content: parts.join(replace), replacements: parts.length - 1 };
  }
  if (content.indexOf(search, first + 1) !== -1) return countOverlapping(content, search);
  // Concatenation, not String.replace: `$&` and friends in the replacement must stay literal.
  return {
    content: content.slice(0, first) + replace + content.slice(first + search.length),
    replacements: 1,
  };
}

function countOverlapping(content: string, search: string): number {
  let count = 0;
  for (let at = content.indexOf(search); at !== -1; at = content.indexOf(search, at + 1))
    count += 1;
  return count;
}

/** Writes `data` next to `target` (same directory, so the rename is atomic), keeping its mode. */
async function writeTemp(target: string, data: Buffer): Promise<string> {
  const suffix = randomBytes(TEMP_NAME_RANDOM_BYTES).toString('hex');
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${suffix}.tmp`);
  const mode = await fs.stat(target).then(
    (stats) => {
      if (stats.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR' });
      return stats.mode;
    },
    (error: unknown) => {
      if (errnoCode(error) === 'ENOENT') return undefined;
      throw error;
    },
  );
  try {
    await fs.writeFile(temp, data, { flag: 'wx' });
    if (mode !== undefined) await fs.chmod(temp, mode);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
  return temp;
}

/** Like commitTemp, but never replaces a file: link() fails with EEXIST atomically. */
async function commitTempExclusive(temp: string, target: string, displayPath: string) {
  try {
    await fs.link(temp, target);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') {
      throw new AgentRequestError('CONFLICT', `File already exists: ${displayPath}`);
    }
    throw error;
  } finally {
    await fs.rm(temp, { force: true });
  }
}

async function commitTemp(temp: string, target: string): Promise<void> {
  try {
    await fs.rename(temp, target);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

export async function listDirectory(
  workspace: Workspace,
  request: Required<ListDirectoryRequest>,
): Promise<ListDirectoryResponse> {
  const real = await workspace.resolve(request.path);
  try {
    const dirents = await fs.readdir(real, { withFileTypes: true });
    const entries = await Promise.all(
      dirents.map(async (dirent): Promise<DirectoryEntry> => {
        // lstat: a symlink's own size; its target may be outside the workspace.
        const size = await fs.lstat(path.join(real, dirent.name)).then(
          (stats) => stats.size,
          () => 0, // removed since readdir
        );
        return { name: dirent.name, type: entryType(dirent), size };
      }),
    );
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { entries };
  } catch (error) {
    fsRequestError(error, request.path);
  }
}

function entryType(dirent: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}): DirectoryEntryType {
  if (dirent.isSymbolicLink()) return 'symlink';
  if (dirent.isDirectory()) return 'directory';
  if (dirent.isFile()) return 'file';
  return 'other';
}
