"""`hoi-perception annotate DIR`: a local web page to correct a reconstructed 4D clip by hand.

`server` serves the clip (frames, posed meshes, annotations, re-solve) as a small JSON API and the
page in `web/` (three.js from `web/node_modules`, installed by `npm ci`); `cli` starts it.
"""
