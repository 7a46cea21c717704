/**
 * Word pools for synthetic text. Nothing here may contain a colon (so TXT continuation lines never look
 * like `Key: value`), a carriage return or a NUL.
 */

// biome-ignore format: packed word list
export const WORDS_EN = [
  'the', 'this', 'is', 'so', 'good', 'literally', 'me', 'when', 'my', 'mom', 'cat', 'dog', 'love', 'it',
  'wait', 'for', 'end', 'part', 'two', 'please', 'obsessed', 'with', 'song', 'again', 'why', 'not', 'ok',
  'lol', 'omg', 'no', 'way', 'best', 'video', 'ever', 'today', 'tomorrow', 'weekend', 'coffee', 'recipe',
  'trip', 'beach', 'city', 'night', 'morning', 'vibe', 'mood', 'same', 'real', 'funny', 'crying', 'laughing',
  'need', 'this', 'in', 'life', 'who', 'else', 'can', 'relate', 'tutorial', 'outfit', 'makeup', 'gym',
  'study', 'exam', 'train', 'late', 'again', 'honestly', 'iconic', 'legend', 'slay', 'cute', 'tiny', 'big',
];

// biome-ignore format: packed word list
export const WORDS_INTL = [
  'schön', 'Grüße', 'Straße', 'müde', 'genau', 'très', 'français', 'déjà', 'où', 'ça', 'garçon', 'niño',
  'año', 'mañana', 'qué', 'está', 'corazón', 'çok', 'güzel', 'teşekkürler', 'ğüşıöç', 'łódź', 'zażółć',
  'gęślą', 'jaźń', 'São', 'ação', 'smørbrød', 'Ærø', 'ĳsje', 'Ελλάδα', 'καλημέρα', 'привет', 'спасибо',
  'مرحبا', 'שלום', 'नमस्ते', 'ขอบคุณ', 'xin chào', 'Việt',
];

// biome-ignore format: packed word list
export const PHRASES_CJK = [
  'かわいい', 'ありがとう', 'おはようございます', '最高', '本当に', '猫ちゃん', '好可爱', '太好笑了', '我也是', '今天', '谢谢你', '加油', '사랑해', '대박',
  '고마워요', '진짜', '맛있다', '東京', '北京', '서울',
];

// biome-ignore format: packed word list
export const EMOJI = [
  '😂', '🤣', '😍', '🥹', '😭', '🔥', '💀', '✨', '🙏', '👀', '🥰', '😅', '🤍', '❤️', '💕', '🫶', '🙌', '👍🏽', '👏🏿', '💅🏻',
  '👩‍💻', '🧑‍🍳', '👨‍👩‍👧', '🏳️‍🌈', '🇩🇪', '🇫🇷', '🇯🇵', '🇧🇷', '🐈', '🐶', '🍕', '☕', '🎶', '🎉', '🌊', '🌸', '😮‍💨', '🫠',
  '🤌', '𝓵𝓸𝓿𝓮',
];

/** Tokens that stress escaping: quotes, backslashes, apostrophes, HTML-ish characters. */
// biome-ignore format: packed word list
export const TRICKY = [
  '"quoted"', "it's", '¯\\_(ツ)_/¯', '\\o/', 'back\\slash', '<3', 'rock & roll', '“curly”', '«guillemets»',
  "'single'", 'a\\nb', 'about 100%', '#1', 'x/y', '(╯°□°)╯︵ ┻━┻',
];

// biome-ignore format: packed word list
export const FIRST_NAMES = [
  'luna', 'mia', 'noah', 'leo', 'emma', 'liam', 'sofia', 'mateo', 'hanna', 'jonas', 'lea', 'elias', 'aylin',
  'yusuf', 'chloe', 'lucas', 'maja', 'oskar', 'ines', 'tiago', 'amelie', 'finn', 'nora', 'emil', 'zoe', 'ida',
  'hugo', 'alba', 'marta', 'pavel', 'yuki', 'hana', 'minji', 'wei', 'priya', 'omar', 'fatima', 'ali', 'sara',
  'david',
];

// biome-ignore format: packed word list
export const LAST_PARTS = [
  'koch', 'meyer', 'rossi', 'garcia', 'nowak', 'dubois', 'silva', 'jensen', 'kaya', 'yilmaz', 'tanaka', 'kim',
  'li', 'smith', 'brown', 'murphy', 'costa', 'novak', 'horvat', 'berg', 'art', 'daily', 'vibes', 'official',
  'tv', 'music', 'eats', 'travels', 'fit', 'studio',
];

export const DISPLAY_DECOR = ['✨', '🌙', '🌸', '⚡', '🎧', '🖤', '☁️', '🦋', '', '', '', ''];

// biome-ignore format: packed word list
export const TOPICS = [
  'cat videos', 'pasta recipe', 'easy makeup', 'gym routine', 'study with me', 'paris travel', 'k-pop dance',
  'football skills', 'lofi beats', 'book recommendations', 'thrift haul', 'skincare', 'guitar tutorial',
  'dog training', 'vegan breakfast', 'home workout', 'anime edit', 'minecraft build', 'tokyo food',
  'berlin techno', 'coffee art', 'plant care', 'nail art', 'street food', 'life hacks', 'marathon training',
  'ramen', 'café', 'crème brûlée', 'jalapeño', 'naïve art', 'Zürich', 'München', 'kaffee', 'çay', '抹茶', '猫',
  '떡볶이', 'pão de queijo',
];

// biome-ignore format: packed word list
export const HASHTAGS = [
  'fyp', 'foryou', 'viral', 'cat', 'food', 'travel', 'dance', 'funny', 'learnontiktok', 'booktok', 'fitness',
  'ootd', 'makeup', 'music', 'pet', 'comedy', 'diy', 'art', 'gaming', 'cooking', 'nature', 'photography',
  'fashion', 'motivation', 'recipe', 'summer', 'winter', 'asmr', 'tutorial', 'vlog',
];

// biome-ignore format: packed word list
export const SONGS = [
  'original sound', 'Espresso', 'APT.', 'Flowers', 'Cruel Summer', 'As It Was', 'Calm Down',
  'Die With A Smile', 'Birds of a Feather', 'Pink Pony Club', 'Ojitos Lindos', 'Seven', 'Dance The Night',
  'Sprinter',
];

// biome-ignore format: packed word list
export const CITIES = [
  'Berlin', 'Paris', 'Madrid', 'Lisboa', 'Warszawa', 'Dublin', 'København', 'Wien', 'Roma', 'Athína',
  'Stockholm', 'Praha', 'Zürich', 'Kraków', 'Bruxelles', 'Amsterdam', 'London', 'Manchester', 'Istanbul',
];

// biome-ignore format: packed word list
export const REGIONS = [
  'DE', 'FR', 'ES', 'IT', 'PL', 'NL', 'IE', 'GB', 'SE', 'AT', 'PT', 'DK', 'BE', 'CZ', 'GR',
];

export const LANGUAGES = [
  ['English', 'en'],
  ['Deutsch', 'de'],
  ['Français', 'fr'],
  ['Español', 'es'],
  ['Polski', 'pl'],
  ['Italiano', 'it'],
  ['Türkçe', 'tr'],
] as const;

// biome-ignore format: packed word list
export const INTERESTS = [
  'Comedy', 'Food', 'Travel', 'Pets', 'Music', 'Dance', 'Sports', 'Beauty', 'Fashion', 'Gaming', 'DIY',
  'Science & Education', 'Art', 'Outdoors', 'Family', 'Cars', 'Anime & Comics', 'Fitness & Health',
];

export const DEVICES = [
  ['iPhone15,2', 'iOS 17.5.1'],
  ['iPhone14,5', 'iOS 16.6'],
  ['iPhone16,1', 'iOS 18.1'],
  ['SM-S918B', 'Android 14'],
  ['SM-A546B', 'Android 13'],
  ['Pixel 8', 'Android 14'],
  ['2201117TY', 'Android 12'],
  ['CPH2411', 'Android 13'],
  ['Windows', 'Windows 10'],
  ['Macintosh', 'Mac OS X 10.15.7'],
] as const;

// biome-ignore format: packed word list
export const CARRIERS = [
  'Vodafone', 'Telekom.de', 'Orange F', 'O2 - UK', 'Movistar', 'Play', 'TIM', 'KPN', '',
];

export const NETWORKS = ['Wi-Fi', '4G', '5G', '3G', 'Wi-Fi'];

export const SHARE_METHODS = ['chat_head', 'whatsapp', 'copy_link', 'instagram', 'sms', 'telegram', 'more'];

// biome-ignore format: packed word list
export const OFF_TIKTOK_EVENTS = [
  'LaunchAPP', 'Login', 'ViewContent', 'AddToCart', 'Purchase', 'Pageview', 'CompleteRegistration', 'Search',
  'AddToWishlist', 'InitiateCheckout',
];

// biome-ignore format: packed word list
export const OFF_TIKTOK_SOURCES = [
  'shop.example.com', 'news.example.org', 'app.example.net', '1452903375', '835599311', 'games.example.com',
];
