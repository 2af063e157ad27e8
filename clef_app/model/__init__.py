"""The Clef model: a frozen ImageNet ViT reads the log-mel image, a decoder writes notes.

Never imports Qt.
"""
