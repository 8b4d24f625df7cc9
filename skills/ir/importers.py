"""Read Skill IR sources into memory: an IR file (YAML/JSON), a skill folder (`skill.yaml` + files,
or an Agent Skills `SKILL.md` folder), or a `.zip` of either (`skill-ir.md`).

Nothing here touches the database. ZIPs and folders are read under bounds (total size, entry
count) and refuse absolute paths, `..`, symlinks and device files, so a hostile archive is refused
rather than unpacked. Skill documents are read by `skills.ir.documents`, under its bounds and one
budget per import.
"""

import io
import mimetypes
import posixpath
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings

from skills.ir.agent_skills import ir_from_skill_md
from skills.ir.documents import (
    BudgetExceeded,
    DocumentError,
    InvalidSyntax,
    ReadBudget,
    document_size_problem,
    load_json,
    load_yaml,
)

IR_FILENAMES = ("skill.yaml", "skill.yml", "skill.json")
AGENT_SKILL_FILENAME = "SKILL.md"
# Extensions mimetypes does not know everywhere: pinned so a bundle is the same on every host.
MEDIA_TYPES = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".yaml": "application/yaml",
    ".yml": "application/yaml",
    ".pdf": "application/pdf",
    ".html": "text/html",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".png": "image/png",
    ".jpg": "image/jpeg",
}
FRONT_MATTER = re.compile(r"\A---\r?\n(?P<yaml>.*?)\r?\n---\r?\n?(?P<body>.*)\Z", re.DOTALL)


class SkillSourceError(Exception):
    """A source that cannot be read at all (bad archive, too big, unsafe path)."""


@dataclass
class SkillSource:
    """One skill as read from its source: the IR document, the files beside it, problems."""

    origin: str
    document: dict | None = None
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def media_type_for(path: str) -> str:
    suffix = PurePosixPath(path).suffix.lower()
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def import_budget() -> ReadBudget:
    """One import's budget for its skill documents, from the settings."""
    return ReadBudget(settings.SKILLS_IMPORT_MAX_IR_BYTES, settings.SKILLS_IMPORT_MAX_IR_VALUES)


def _limits() -> tuple[int, int]:
    return settings.SKILLS_IMPORT_MAX_BYTES, settings.SKILLS_IMPORT_MAX_FILES


def safe_relative_path(name: str) -> str | None:
    """`name` as a clean relative POSIX path, or None if it is absolute or climbs out."""
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or name.startswith("/")
        or re.match(r"^[A-Za-z]:", name)
    ):
        return None
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def read_zip(content: bytes, origin: str) -> dict[str, bytes]:
    """The regular files of a ZIP, by path; refuses unsafe entries and anything over the bounds."""
    max_bytes, max_files = _limits()
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise SkillSourceError(f"{origin}: not a readable ZIP archive ({exc})") from None
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        if len(entries) > max_files:
            raise SkillSourceError(
                f"{origin}: {len(entries)} files in the archive, at most {max_files} are accepted"
            )
        declared = sum(info.file_size for info in entries)
        if declared > max_bytes:
            raise SkillSourceError(
                f"{origin}: unpacks to {declared} bytes, more than the {max_bytes} accepted "
                "(refused without unpacking)"
            )
        tree: dict[str, bytes] = {}
        total = 0
        for info in entries:
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise SkillSourceError(f"{origin}: {info.filename}: symbolic links are refused")
            if stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                raise SkillSourceError(
                    f"{origin}: {info.filename}: only regular files are accepted"
                )
            path = safe_relative_path(info.filename)
            if path is None:
                raise SkillSourceError(
                    f"{origin}: {info.filename}: absolute paths and '..' are refused"
                )
            if path in tree:
                raise SkillSourceError(f"{origin}: {path}: appears twice in the archive")
            # Declared sizes can lie: count what is actually inflated, and stop at the bound.
            chunks = []
            try:
                with archive.open(info) as stream:
                    while chunk := stream.read(1 << 16):
                        total += len(chunk)
                        if total > max_bytes:
                            raise SkillSourceError(
                                f"{origin}: unpacks to more than the {max_bytes} bytes accepted"
                            )
                        chunks.append(chunk)
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
                raise SkillSourceError(f"{origin}: {info.filename}: unreadable ({exc})") from None
            tree[path] = b"".join(chunks)
    return tree


def read_folder(root: Path) -> dict[str, bytes]:
    """The regular files under `root`, by relative path; symlinks refused, size bounded."""
    max_bytes, max_files = _limits()
    tree: dict[str, bytes] = {}
    total = 0
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.is_symlink():
            raise SkillSourceError(f"{root}: {relative}: symbolic links are refused")
        if path.is_dir():
            continue
        if not path.is_file():
            raise SkillSourceError(f"{root}: {relative}: only regular files are accepted")
        total += path.stat().st_size
        if total > max_bytes or len(tree) >= max_files:
            raise SkillSourceError(
                f"{root}: more than {max_bytes} bytes or {max_files} files: refused"
            )
        tree[relative] = path.read_bytes()
    return tree


def _parse_document(content: bytes, name: str, budget: ReadBudget) -> tuple[dict | None, list[str]]:
    if problem := document_size_problem(name, len(content)):
        return None, [problem]
    budget.take_bytes(len(content))
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None, [f"{name}: not UTF-8 text"]
    try:
        if name.lower().endswith(".json"):
            document = load_json(text, budget=budget)
        else:
            document = load_yaml(text, budget=budget)
    except DocumentError as exc:
        return None, [f"{name}: {exc}"]
    if not isinstance(document, dict):
        return None, [f"{name}: must be a mapping of IR fields"]
    return document, []


def agent_skill_document(
    content: bytes, tree: dict[str, bytes], budget: ReadBudget | None = None
) -> tuple[dict | None, list[str], dict[str, bytes]]:
    """Map an Agent Skills `SKILL.md` folder onto the IR, as `skill-ir.md` describes (the
    mapping is skills/ir/agent_skills.py, the import side of skills/targets/plugin/build.py); the
    files come
    back keyed by the IR's knowledge paths."""
    if problem := document_size_problem(AGENT_SKILL_FILENAME, len(content)):
        return None, [problem], tree
    budget = budget or import_budget()
    budget.take_bytes(len(content))
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return None, ["SKILL.md: not UTF-8 text"], tree
    match = FRONT_MATTER.match(text)
    if not match:
        return None, ["SKILL.md: missing the YAML front matter (--- name, description ---)"], tree
    try:
        # The front matter starts on the line after the opening `---`.
        front = load_yaml(match["yaml"], budget=budget, line_offset=1) or {}
        if not isinstance(front, dict):
            return None, ["SKILL.md: the front matter must be a mapping"], tree
        document, locations = ir_from_skill_md(front, match["body"], list(tree))
    except InvalidSyntax as exc:
        return None, [f"SKILL.md: the front matter is {exc}"], tree
    except DocumentError as exc:
        return None, [f"SKILL.md: {exc}"], tree
    files = dict(tree)
    for path, location in locations.items():
        if location != path and location in tree:
            files[path] = files.pop(location)
    return document, [], files


def _skill_roots(tree: dict[str, bytes]) -> list[tuple[str, str]]:
    """(folder, IR file name) for each skill in the tree: the root itself, else its folders."""
    markers = (*IR_FILENAMES, AGENT_SKILL_FILENAME)
    for marker in markers:
        if marker in tree:
            return [("", marker)]
    by_folder: dict[str, set[str]] = {}
    for path in tree:
        folder, _, name = path.rpartition("/")
        if name in markers and folder:
            by_folder.setdefault(folder, set()).add(name)
    roots = []
    for folder in sorted(by_folder):
        if any(folder.startswith(root + "/") for root, _ in roots):
            continue  # a folder inside a skill is that skill's content
        roots.append((folder, next(m for m in markers if m in by_folder[folder])))
    return roots


def sources_from_tree(
    tree: dict[str, bytes], origin: str, *, budget: ReadBudget | None = None
) -> list[SkillSource]:
    """One source per skill in the tree; SkillSourceError when its skill documents together
    are over the import's budget."""
    budget = budget or import_budget()
    try:
        return _sources_from_tree(tree, origin, budget)
    except BudgetExceeded as exc:
        raise SkillSourceError(f"{origin}: {exc}") from None


def _sources_from_tree(
    tree: dict[str, bytes], origin: str, budget: ReadBudget
) -> list[SkillSource]:
    roots = _skill_roots(tree)
    if not roots:
        raise SkillSourceError(
            f"{origin}: no skill.yaml, skill.json or SKILL.md found (at the root or in a folder)"
        )
    sources = []
    for folder, marker in roots:
        prefix = f"{folder}/" if folder else ""
        files = {
            path[len(prefix) :]: data for path, data in tree.items() if path.startswith(prefix)
        }
        label = f"{origin}/{folder}" if folder else origin
        if marker == AGENT_SKILL_FILENAME:
            document, problems, files = agent_skill_document(files.pop(marker), files, budget)
        else:
            document, problems = _parse_document(files.pop(marker), marker, budget)
        sources.append(SkillSource(origin=label, document=document, files=files, problems=problems))
    return sources


def sources_from_upload(
    filename: str, content: bytes, *, budget: ReadBudget | None = None
) -> list[SkillSource]:
    """An uploaded file: a `.zip`, an IR `.yaml`/`.yml`/`.json`, or a lone `SKILL.md`."""
    name = posixpath.basename(filename or "upload")
    lower = name.lower()
    budget = budget or import_budget()
    if lower.endswith(".zip"):
        return sources_from_tree(read_zip(content, name), name, budget=budget)
    if lower.endswith((".yaml", ".yml", ".json")):
        try:
            document, problems = _parse_document(content, name, budget)
        except BudgetExceeded as exc:
            raise SkillSourceError(f"{name}: {exc}") from None
        return [SkillSource(origin=name, document=document, problems=problems)]
    if name == AGENT_SKILL_FILENAME:
        return sources_from_tree({AGENT_SKILL_FILENAME: content}, name, budget=budget)
    raise SkillSourceError(f"{name}: expected a .zip, .yaml, .yml, .json or SKILL.md file")


def upload_size_problem(filename: str, size: int) -> str | None:
    """Why an upload of `size` bytes is refused before it is read, or None."""
    name = posixpath.basename(filename or "upload")
    if name.lower().endswith((".yaml", ".yml", ".json")) or name == AGENT_SKILL_FILENAME:
        return document_size_problem(name, size)
    max_bytes, _ = _limits()
    if size > max_bytes:
        return f"{name} is {size:,} bytes, more than the {max_bytes:,} accepted"
    return None


def _beside(path: Path, document: dict | None) -> dict[str, bytes]:
    """The knowledge files an IR file names, read from beside it under the import bounds."""
    max_bytes, max_files = _limits()
    items = (document or {}).get("knowledge")
    files: dict[str, bytes] = {}
    total = 0
    for item in items if isinstance(items, list) else []:
        named = item.get("path") if isinstance(item, dict) else None
        relative = safe_relative_path(named) if isinstance(named, str) else None
        if relative is None or relative in files:
            continue
        candidate = path.parent / relative
        if candidate.is_symlink() or not candidate.is_file():
            continue
        total += candidate.stat().st_size
        if total > max_bytes or len(files) >= max_files:
            raise SkillSourceError(
                f"{path}: its knowledge files are more than {max_bytes} bytes or {max_files} "
                "files: refused"
            )
        files[relative] = candidate.read_bytes()
    return files


def sources_from_path(path: Path, *, budget: ReadBudget | None = None) -> list[SkillSource]:
    """A path given to `import_skills`: a folder, a ZIP, or an IR file (knowledge beside it)."""
    budget = budget or import_budget()
    if path.is_symlink():
        raise SkillSourceError(f"{path}: symbolic links are refused")
    if path.is_dir():
        return sources_from_tree(read_folder(path), str(path), budget=budget)
    if not path.is_file():
        raise SkillSourceError(f"{path}: no such file or folder")
    if path.suffix.lower() == ".zip":
        if problem := upload_size_problem(path.name, path.stat().st_size):
            raise SkillSourceError(f"{path}: {problem}")
        return sources_from_tree(read_zip(path.read_bytes(), str(path)), str(path), budget=budget)
    if path.suffix.lower() in (".yaml", ".yml", ".json"):
        if problem := document_size_problem(path.name, path.stat().st_size):
            return [SkillSource(origin=str(path), problems=[problem])]
        sources = sources_from_upload(path.name, path.read_bytes(), budget=budget)
        for source in sources:
            source.origin = str(path)
            source.files = _beside(path, source.document)
        return sources
    if path.name == AGENT_SKILL_FILENAME:
        return sources_from_tree(read_folder(path.parent), str(path.parent), budget=budget)
    raise SkillSourceError(f"{path}: expected a folder, a .zip, .yaml, .yml, .json or SKILL.md")
