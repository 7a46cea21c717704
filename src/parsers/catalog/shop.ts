/**
 * TikTok Shop (`Tiktok Shopping` before 2025). The record shapes are not verified (real exports
 * mostly write `null` here), so every container is read leniently: a list of records fills the
 * table, anything else is kept raw with a warning. Addresses and payment data are private.
 */
import { DATE, defineTable, records, type SectionSpec, text, ts } from './define.js';

const SHOP = ['Tiktok Shopping', 'TikTok Shop'];
const WHEN = [...DATE, 'CreateTime', 'OrderTime', 'BrowsingTime', 'Timestamp'];
const PRODUCT = ['ProductName', 'Product', 'ProductTitle', 'ItemName', 'Name', 'Title'];
const SHOP_NAME = ['ShopName', 'Shop', 'SellerName', 'Seller', 'StoreName'];
const AMOUNT = ['Amount', 'Price', 'TotalPrice', 'OrderAmount', 'Total', 'Value'];

function section(id: string, table: string, part: string, names: string[], containers: string): SectionSpec {
  return {
    id,
    categories: SHOP,
    names,
    containers: { [containers]: records(table, part, true) },
    anyList: records(table, part, true),
  };
}

export const productBrowsing = defineTable({
  table: 'product_browsing',
  schema: 'tiktok',
  columns: {
    browsed_at: ts(...WHEN),
    product_name: text(...PRODUCT),
    shop_name: text(...SHOP_NAME),
    price: text(...AMOUNT),
    link: text('ProductLink', 'Link', 'Url'),
  },
  key: ['browsed_at', ['product_name', 'link']],
  sections: [
    section(
      'shop_product_browsing',
      'product_browsing',
      '',
      ['Product Browsing History', 'Product Browsing'],
      'ProductBrowsingHistories|ProductBrowsingHistory|ProductBrowsingHistoryList',
    ),
  ],
});

export const shopOrders = defineTable({
  table: 'shop_orders',
  schema: 'tiktok',
  columns: {
    ordered_at: ts(...WHEN),
    order_id: text('OrderId', 'OrderID', 'OrderNumber', 'OrderNo'),
    product_name: text(...PRODUCT),
    shop_name: text(...SHOP_NAME),
    quantity: text('Quantity', 'Qty', 'Count'),
    amount: text(...AMOUNT),
    status: text('OrderStatus', 'Status'),
  },
  key: [['order_id', 'ordered_at'], 'product_name'],
  sections: [
    section(
      'shop_orders',
      'shop_orders',
      '',
      ['Order History', 'Orders'],
      'OrderHistories|OrderHistory|OrderHistoryList',
    ),
  ],
});

export const shopVouchers = defineTable({
  table: 'shop_vouchers',
  schema: 'tiktok',
  columns: {
    name: text('VoucherName', 'Name', 'Title', 'VoucherTitle'),
    code: text('VoucherCode', 'Code'),
    discount: text('Discount', 'DiscountAmount', 'Amount', 'Value'),
    valid_from: ts('StartTime', 'ValidFrom', 'CreateTime', 'Date'),
    valid_until: ts('ExpireTime', 'ExpirationTime', 'ValidUntil', 'EndTime'),
    status: text('Status', 'VoucherStatus'),
    shop_name: text(...SHOP_NAME),
  },
  key: [['name', 'code'], 'valid_from', 'valid_until'],
  sections: [
    section('shop_vouchers', 'shop_vouchers', '', ['Vouchers', 'Voucher'], 'Vouchers|Voucher|VoucherList'),
  ],
});

/** The other Shop lists, told apart by their part. */
export const shopActivity = defineTable({
  table: 'shop_activity',
  schema: 'tiktok',
  part: 'kind',
  columns: {
    at: ts(...WHEN, 'ReviewTime', 'ReturnTime', 'AddTime'),
    product_name: text(...PRODUCT),
    shop_name: text(...SHOP_NAME),
    amount: text(...AMOUNT),
    status: text('Status', 'State'),
    content: text('Content', 'Message', 'Review', 'Comment', 'Description', 'Reason', 'Subject'),
  },
  key: ['at', 'product_name', 'shop_name', 'content'],
  sections: [
    section(
      'shop_cart',
      'shop_activity',
      'cart',
      ['Shopping Cart List', 'Shopping Cart'],
      'ShoppingCart|ShoppingCartList',
    ),
    section(
      'shop_reviews',
      'shop_activity',
      'product_review',
      ['Product Reviews', 'Product Review History'],
      'ProductReviews|ProductReviewHistories|ProductReviewList',
    ),
    section(
      'shop_communication',
      'shop_activity',
      'communication',
      ['Communication With Shops', 'Communication History'],
      'CommunicationHistories|CommunicationHistory|CommunicationWithShops',
    ),
    section(
      'shop_support',
      'shop_activity',
      'support',
      ['Customer Support History'],
      'CustomerSupportHistories|CustomerSupportHistory',
    ),
    section(
      'shop_disputes',
      'shop_activity',
      'dispute',
      ['Order Dispute History'],
      'OrderDisputeHistories|OrderDisputeHistory',
    ),
    section(
      'shop_refunds',
      'shop_activity',
      'refund',
      ['Returns and Refunds History', 'Return and Refund History'],
      'ReturnAndRefundHistories|ReturnsAndRefundsHistories|ReturnAndRefundHistory',
    ),
    section(
      'shop_favorite_items',
      'shop_activity',
      'favorite_item',
      ['TikTokFavoriteItem'],
      'TikTokFavoriteItems|FavoriteItems',
    ),
  ],
});

export const shopAddresses = defineTable({
  table: 'shop_addresses',
  schema: 'tiktok_private',
  columns: {
    name: text('Name', 'RecipientName', 'Recipient', 'FullName'),
    phone: text('PhoneNumber', 'Phone', 'Mobile', 'TelephoneNumber'),
    address: text('Address', 'FullAddress', 'DetailAddress', 'AddressLine', 'Street', 'AddressLine1'),
    city: text('City', 'Town'),
    region: text('Region', 'State', 'Province'),
    postal_code: text('ZipCode', 'PostalCode', 'Zip', 'PostCode'),
    country: text('Country', 'CountryRegion'),
  },
  key: ['name', 'address', 'postal_code', 'phone'],
  sections: [
    section(
      'shop_addresses',
      'shop_addresses',
      '',
      ['Saved Address Information', 'Saved Addresses'],
      'SavedAddress|SavedAddresses|SavedAddressList',
    ),
  ],
});

export const paymentMethods = defineTable({
  table: 'payment_methods',
  schema: 'tiktok_private',
  columns: {
    method: text('PaymentMethod', 'Type', 'CardType', 'Method'),
    card: text('CardNumber', 'Card', 'LastFour', 'Number', 'CardLast4'),
    holder: text('CardHolder', 'Name', 'HolderName'),
    expires: text('ExpiryDate', 'Expiry', 'ExpirationDate'),
  },
  key: ['method', 'card', 'holder', 'expires'],
  sections: [
    section(
      'shop_payments',
      'payment_methods',
      '',
      ['Current Payment Information', 'Payment Information'],
      'PaymentInformation|CurrentPaymentInformation|PaymentMethods',
    ),
  ],
});
