// The screens, in the order of the navigation.

import * as account from './account.js';
import * as alerts from './alerts.js';
import * as facilities from './facilities.js';
import * as hazards from './hazards.js';
import * as modes from './modes.js';
import * as party from './party.js';
import * as reports from './reports.js';
import * as residents from './residents.js';
import * as review from './review.js';
import * as safety from './safety.js';
import * as tasks from './tasks.js';
import * as warnings from './warnings.js';

export const SCREENS = [
  { id: 'tasks', render: tasks.render },
  { id: 'safety', render: safety.render },
  { id: 'residents', render: residents.render },
  { id: 'reports', render: reports.render },
  { id: 'modes', render: modes.render },
  { id: 'warnings', render: warnings.render },
  { id: 'alerts', render: alerts.render },
  { id: 'facilities', render: facilities.render },
  { id: 'hazards', render: hazards.render },
  { id: 'party', render: party.render },
  { id: 'review', render: review.render },
  { id: 'account', render: account.render },
];
