"""``kmpsearch --dask ADDRESS|local``: the same search with the files' matches found on a
Dask cluster (``kmpsearch.dask.command_results``), printed by the same code as without
``--dask``: the output is byte for byte the command's."""

from __future__ import annotations

import os
from array import array

__all__ = ["run_dask"]

STDIN_LABEL = "(standard input)"


def _as_array(values, code: str) -> array:
    out = array(code)
    out.frombytes(values.astype("<i8" if code == "q" else "<i4").tobytes())
    return out


def run_dask(cfg, api, wordset, searcher, operands, reporter) -> None:
    """Search the files of ``operands`` on the cluster ``cfg.dask``; ConnectionError when it
    cannot be reached (the caller says so)."""
    from .. import dask as kdask
    from . import _env_int

    files = [op for op in cfg.operands if op != "-"]
    if "-" in cfg.operands or (not cfg.operands and not cfg.recursive):
        reporter.error(STDIN_LABEL, "--dask searches files, not standard input")
    lines = searcher.want == "pairs"
    results = kdask.command_results(
        files, list(wordset.words) if wordset is not None else [], scheduler=cfg.dask, recursive=cfg.recursive,
        ignore_case="unicode" if cfg.ignore_case else False, lines=lines, threads=cfg.threads or 1,
        blocksize=os.environ.get("KMPSEARCH_DASK_BLOCKSIZE") or kdask.DEFAULT_BLOCKSIZE,
        window=_env_int("KMPSEARCH_CLI_CHUNK", kdask.WINDOW), backend=api.__name__.rsplit(".", 1)[1],
        on_error=reporter.error)
    try:
        for label, path, got in results:
            if isinstance(got, BaseException):
                reporter.error(label, got)
            elif lines:
                searcher.known(label, path, (_as_array(got[0], "q"), _as_array(got[1], "i")))
            else:
                searcher._answer(label, 1 if got else 0, got)
    finally:
        results.close()
