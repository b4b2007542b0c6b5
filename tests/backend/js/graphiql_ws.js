// Runs backend/static/graphiql/linli-graphiql.js in Node with the vendored graphql-ws client
// (real, over a real WebSocket to the live server); only GraphiQL's and React's UI are stand-ins.
// argv: <static dir> <page origin> <headers JSON> <query>. Prints one JSON line: the result or
// the close code.
'use strict';
const fs = require('fs');
const vm = require('vm');
const [staticDir, origin, headersJson, query] = process.argv.slice(2);

let captured = null;
const sandbox = {
  WebSocket, setTimeout, clearTimeout, console, Promise,
  location: new URL(origin + '/graphql/'),
  history: { replaceState() {} },
  document: { getElementById: () => ({ dataset: { subscriptionPath: '/graphql/', headerEditor: 'true' } }) },
  React: {
    useState: (value) => [value, () => {}],
    createElement: (type, props) => (typeof type === 'function' && type !== sandbox.GraphiQL ? type(props) : { type, props }),
  },
  ReactDOM: { render: (element) => { captured = element.props; } },
  GraphiQLPluginExplorer: { useExplorerPlugin: () => ({}) },
};
// GraphiQL's createFetcher sends subscriptions through the wsClient it is given; this
// stand-in sends every operation that way, so the test exercises the socket.
sandbox.GraphiQL = function GraphiQL() {};
sandbox.GraphiQL.createFetcher = ({ wsClient }) => (params) => new Promise((resolve) => {
  wsClient.subscribe(params, {
    next: (value) => resolve({ next: value }),
    error: (error) => resolve({ closed: error && error.code, reason: error && error.reason }),
    complete: () => {},
  });
});
sandbox.window = sandbox;
vm.createContext(sandbox);
vm.runInContext(fs.readFileSync(`${staticDir}/vendor/graphql-ws.min.js`, 'utf8'), sandbox);
vm.runInContext(fs.readFileSync(`${staticDir}/linli-graphiql.js`, 'utf8'), sandbox);

captured.fetcher({ query }, { headers: JSON.parse(headersJson) }).then((result) => {
  console.log(JSON.stringify(result));
  process.exit(0);
});
setTimeout(() => { console.log(JSON.stringify({ timeout: true })); process.exit(0); }, 8000);
