"""Object masks without a user-supplied segmenter: from depth, or a learned segmenter prompted by the person."""
