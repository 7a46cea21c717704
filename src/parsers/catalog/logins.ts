import { DATE, defineTable, records, text, ts } from './define.js';

export const logins = defineTable({
  table: 'logins',
  schema: 'tiktok',
  columns: {
    logged_in_at: ts(...DATE),
    ip: text('IP', 'IPAddress'),
    device_model: text('DeviceModel'),
    device_system: text('DeviceSystem', 'OS'),
    network_type: text('NetworkType', 'Network'),
    carrier: text('Carrier'),
  },
  key: ['logged_in_at', 'ip', 'device_model', 'device_system', 'network_type', 'carrier'],
  sections: [
    {
      id: 'logins',
      categories: ['Activity', 'Your Activity'],
      names: ['Login History', 'Logins'],
      containers: { 'LoginHistoryList|LoginList': records('logins') },
    },
  ],
});
