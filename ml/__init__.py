"""The vision and retrieval library: image intake, detection, embedding, style, index.

Plain Python + torch; it never imports Django. Its settings are one typed object
(:class:`ml.settings.MLSettings`) read from ``ML_*`` variables and passed in.
"""
