"""Kakao login for the mobile app: an allauth provider that takes what the Kakao SDK gives.

allauth's built-in ``kakao`` provider only knows the web redirect flow; this one supports the
headless *provider token* flow (``POST /_allauth/app/v1/auth/provider/token``) for both
forms the SDK hands the app: a Kakao access token and an OpenID Connect id_token.
"""
