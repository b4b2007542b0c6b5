// GraphiQL for Linli: graphene-django's graphiql.js (MIT), changed so that
// - its settings come from data attributes (no inline script: the page's CSP allows none),
// - subscriptions carry the token: the WebSocket's connection_init sends the Authorization
//   header from the Headers tab, and the socket is opened again when that header changes,
// - no CSRF token (the API takes bearer tokens, never cookies).
(function (document, GraphiQL, React, ReactDOM, graphqlWs, GraphiQLPluginExplorer, history, location) {
  'use strict';
  var editor = document.getElementById('editor');
  var settings = editor.dataset;

  var parameters = {};
  location.hash.substr(1).split('&').forEach(function (entry) {
    var eq = entry.indexOf('=');
    if (eq >= 0) {
      parameters[decodeURIComponent(entry.slice(0, eq))] = decodeURIComponent(entry.slice(eq + 1));
    }
  });
  function locationQuery(params) {
    return '#' + Object.keys(params).map(function (key) {
      return encodeURIComponent(key) + '=' + encodeURIComponent(params[key]);
    }).join('&');
  }
  var graphqlParamNames = { query: true, variables: true, operationName: true };
  var otherParams = {};
  Object.keys(parameters).forEach(function (key) {
    if (graphqlParamNames[key] !== true) otherParams[key] = parameters[key];
  });
  var fetchURL = location.pathname + locationQuery(otherParams);
  var subscribeURL = location.origin.replace(/^http/, 'ws') + (settings.subscriptionPath || location.pathname);

  // The Authorization header of the Headers tab, as the socket's connection_init payload.
  function authorizationOf(headers) {
    if (!headers) return null;
    if (typeof headers === 'string') {
      try { headers = JSON.parse(headers); } catch (error) { return null; }
    }
    var value = null;
    Object.keys(headers || {}).forEach(function (name) {
      if (name.toLowerCase() === 'authorization') value = String(headers[name]);
    });
    return value;
  }

  var current = { authorization: undefined, fetcher: null, wsClient: null };
  function fetcherFor(authorization) {
    if (current.fetcher && current.authorization === authorization) return current.fetcher;
    if (current.wsClient) current.wsClient.dispose();
    var wsClient = graphqlWs.createClient({
      url: subscribeURL,
      lazy: true,
      // A refused token (4403 account disabled, 4440 expired, 4441 invalid, 4442 missing)
      // is not retried: GraphiQL shows the close, and a new token in the Headers tab opens a
      // new socket. Anything else (a restart, a lost network) is retried.
      shouldRetry: function (closeEvent) {
        return !(closeEvent && [4403, 4440, 4441, 4442].indexOf(closeEvent.code) >= 0);
      },
      connectionParams: function () { return authorization ? { authorization: authorization } : {}; },
    });
    current = {
      authorization: authorization,
      wsClient: wsClient,
      fetcher: GraphiQL.createFetcher({ url: fetchURL, wsClient: wsClient }),
    };
    return current.fetcher;
  }
  function fetcher(graphQLParams, options) {
    return fetcherFor(authorizationOf(options && options.headers))(graphQLParams, options);
  }

  function updateURL() { history.replaceState(null, null, locationQuery(parameters)); }

  function LinliGraphiQL() {
    var state = React.useState(parameters.query);
    var query = state[0];
    var setQuery = state[1];
    function onEditQuery(newQuery) {
      setQuery(newQuery);
      parameters.query = newQuery;
      updateURL();
    }
    var explorerPlugin = GraphiQLPluginExplorer.useExplorerPlugin({ query: query, onEdit: onEditQuery });
    var options = {
      fetcher: fetcher,
      plugins: [explorerPlugin],
      defaultEditorToolsVisibility: true,
      onEditQuery: onEditQuery,
      onEditVariables: function (value) { parameters.variables = value; updateURL(); },
      onEditOperationName: function (value) { parameters.operationName = value; updateURL(); },
      isHeadersEditorEnabled: settings.headerEditor === 'true',
      shouldPersistHeaders: settings.persistHeaders === 'true',
      inputValueDeprecation: settings.inputValueDeprecation === 'true',
      query: query,
    };
    if (parameters.variables) options.variables = parameters.variables;
    if (parameters.operationName) options.operationName = parameters.operationName;
    return React.createElement(GraphiQL, options);
  }

  ReactDOM.render(React.createElement(LinliGraphiQL), editor);
})(document, window.GraphiQL, window.React, window.ReactDOM, window.graphqlWs, window.GraphiQLPluginExplorer,
   window.history, window.location);
