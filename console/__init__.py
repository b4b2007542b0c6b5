"""The web console for grid workers and commanders (/console/): one HTML shell and static
ES modules that talk only to the public GraphQL API, like any mobile app."""
