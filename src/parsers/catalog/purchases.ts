import { DATE, defineTable, records, text, ts } from './define.js';

const rec = (part: string, lenient = false) => records('purchases', part, lenient);

export const purchases = defineTable({
  table: 'purchases',
  schema: 'tiktok',
  part: 'kind',
  columns: {
    purchased_at: ts(...DATE, 'CreateTime', 'TransactionTime', 'PurchaseTime', 'OrderTime'),
    amount: text('GiftAmount', 'Price', 'Amount', 'Coins', 'CoinAmount', 'Value', 'Total'),
    username: text('UserName', 'Recipient', 'ToUser'),
  },
  key: ['purchased_at', 'amount', 'username'],
  // The kind of a wallet transaction has no column; it stays in `extra` without a warning.
  knownExtra: ['Type', 'TransactionType'],
  sections: [
    {
      id: 'purchases',
      categories: ['Activity', 'Your Activity'],
      names: ['Purchase History', 'Purchases'],
      containers: {
        'SendGifts|SendGift|SentGifts': { 'SendGifts|SendGift|SentGifts': rec('send_gift') },
        'BuyGifts|BuyGift|BoughtGifts': { 'BuyGifts|BuyGift|BoughtGifts': rec('buy_gift') },
      },
    },
    {
      id: 'wallet_transactions',
      categories: ['Income Plus Wallet Transactions', 'Income+ Wallet'],
      names: ['Transaction History', 'Transactions'],
      containers: {
        'TransactionsList|TransactionList|TransactionHistoryList': rec('wallet_transaction'),
      },
      anyList: rec('wallet_transaction', true),
    },
    {
      id: 'coin_purchases',
      categories: ['Income+ Wallet'],
      names: ['Coin Purchase History', 'Coin Purchases'],
      containers: { 'CoinPurchaseList|CoinPurchaseHistoryList|CoinPurchasesList': rec('coin_purchase') },
      anyList: rec('coin_purchase', true),
    },
  ],
});
