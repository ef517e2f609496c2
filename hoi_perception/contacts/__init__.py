"""Contacts by render-localize-lift (paper 003): per-vertex contacts on anny's full mesh and on the object's
template from one image, conditioned on the object's kind. Live code here; training in `training/`."""
