"""Staff log in with username and password; everyone refreshes and revokes the same way."""

import graphql_jwt


class TokenAuth(graphql_jwt.ObtainJSONWebToken):
    """Staff login: username + password -> access token and refresh token."""


class RefreshToken(graphql_jwt.Refresh):
    """A refresh token -> a new access token (and a rotated refresh token)."""


class RevokeToken(graphql_jwt.Revoke):
    """Log out a device: its refresh token stops working."""
