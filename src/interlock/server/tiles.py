"""C2SP tlog-tiles read paths for every log, below `/v1/agreements/{id}/`.

* `…/checkpoint` — the newest signed checkpoint (served by `api`; same text).
* `…/tile/<L>/<N>[.p/<W>]` — hash tiles: 256 (or W) level-8L subtree hashes, 32 bytes each.
* `…/tile/entries/<N>[.p/<W>]` — entry bundles: each leaf's bytes (the RFC 8785 entry
  `{"integrated_at", "envelope"}`) behind a big-endian uint16 length.

A tile is served only if the current tree holds all of it (404 otherwise, as the spec asks
for tiles that do not exist yet).  Full and partial tiles never change once they exist, so
they are served with a long immutable cache lifetime; paths are only accepted in their one
canonical form (`interlock.tiles.parse_tile_path`).
"""


from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from interlock.errors import InterlockError, NotFoundError, TileError
from interlock.store import Log
from interlock.tiles import TILE_HEIGHT, TILE_WIDTH, entry_bundle, parse_tile_path

from .api import AGREEMENT_ID
from .errors import error_responses, reject_unknown_query

IMMUTABLE = "public, max-age=31536000, immutable"
TILE_RESPONSES = {
    200: {"description": "tile bytes", "content": {"application/octet-stream": {"schema": {"type": "string",
                                                                                       "format": "binary"}}}},
    **error_responses(400, 404),
}


def build_tiles_router() -> APIRouter:
    router = APIRouter(prefix="/v1/agreements/{agreement_id}", tags=["tlog-tiles"],
                       dependencies=[Depends(reject_unknown_query)])

    @router.get("/tile/{tile_path:path}", response_class=Response, responses=TILE_RESPONSES,
                summary="C2SP tlog-tiles hash tile or entry bundle")
    def tile(
        request: Request,
        agreement_id: Annotated[str, Path(pattern=AGREEMENT_ID)],
        tile_path: Annotated[str, Path(max_length=200)],
    ) -> Response:
        log: Log = request.app.state.logs.get_log(agreement_id)
        try:
            spec = parse_tile_path("tile/" + tile_path)
        except TileError as err:
            raise NotFoundError(f"not a tile path: {err.message}") from None
        size = log.size()
        if not spec.fits(size):
            raise NotFoundError(f"the tree of size {size} does not hold {spec.path} (yet)")
        if spec.entries:
            start = spec.index * TILE_WIDTH
            leaves = [e.leaf_bytes() for e in log.entries(start, spec.width)]
            try:
                data = entry_bundle(leaves)
            except InterlockError as err:
                raise NotFoundError(f"{spec.path}: {err.message}") from None
        else:
            hashes = log.subtrees(TILE_HEIGHT * spec.level, spec.index * TILE_WIDTH, spec.width)
            if len(hashes) != spec.width:  # pragma: no cover - the store holds every complete subtree
                raise NotFoundError(f"{spec.path} is not complete in the store")
            data = b"".join(hashes)
        return Response(data, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE})

    return router
