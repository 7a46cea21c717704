import { defineTable, int, records, text } from './define.js';

/** Devices and app versions the account used (the `Status` section). */
export const devices = defineTable({
  table: 'devices',
  schema: 'tiktok',
  columns: {
    resolution: text('Resolution'),
    app_version: text('App Version', 'AppVersion'),
    idfa: text('IDFA'),
    gaid: text('GAID'),
    android_id: text('Android ID', 'AndroidId'),
    idfv: text('IDFV'),
    uid: int('UID'),
    did: text('DID', 'Device ID'),
    web_id: text('Web ID', 'WebId'),
  },
  key: ['resolution', 'app_version', 'idfa', 'gaid', 'android_id', 'idfv', 'uid', 'did', 'web_id'],
  sections: [
    {
      id: 'status',
      categories: ['Activity', 'Your Activity'],
      names: ['Status'],
      containers: { 'Status List|StatusList': records('devices') },
      anyList: records('devices', '', true),
    },
  ],
});
