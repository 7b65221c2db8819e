/**
 * Singapore postal districts (public knowledge, written by hand as data): the first two digits of a postal code are
 * its sector; sectors group into 28 districts with well-known general locations. Sectors 01–82 except 74.
 */
export interface PostalDistrict {
  district: number;
  sectors: string[];
  areas: string[];
}

export const POSTAL_DISTRICTS: PostalDistrict[] = [
  { district: 1, sectors: ['01', '02', '03', '04', '05', '06'], areas: ['Raffles Place', 'Cecil', 'Marina', "People's Park", 'Chinatown'] },
  { district: 2, sectors: ['07', '08'], areas: ['Anson', 'Tanjong Pagar'] },
  { district: 3, sectors: ['14', '15', '16'], areas: ['Queenstown', 'Tiong Bahru', 'Redhill', 'Alexandra'] },
  { district: 4, sectors: ['09', '10'], areas: ['Telok Blangah', 'Harbourfront', 'Sentosa', 'Keppel'] },
  { district: 5, sectors: ['11', '12', '13'], areas: ['Pasir Panjang', 'Hong Leong Garden', 'Clementi', 'West Coast', 'Dover'] },
  { district: 6, sectors: ['17'], areas: ['High Street', 'Beach Road', 'City Hall'] },
  { district: 7, sectors: ['18', '19'], areas: ['Middle Road', 'Golden Mile', 'Bugis', 'Rochor'] },
  { district: 8, sectors: ['20', '21'], areas: ['Little India', 'Farrer Park', 'Jalan Besar'] },
  { district: 9, sectors: ['22', '23'], areas: ['Orchard', 'Cairnhill', 'River Valley', 'Somerset'] },
  { district: 10, sectors: ['24', '25', '26', '27'], areas: ['Ardmore', 'Bukit Timah', 'Holland Road', 'Holland Village', 'Tanglin', 'Farrer Road'] },
  { district: 11, sectors: ['28', '29', '30'], areas: ['Watten Estate', 'Novena', 'Thomson', 'Newton'] },
  { district: 12, sectors: ['31', '32', '33'], areas: ['Balestier', 'Toa Payoh', 'Serangoon', 'Whampoa', 'Boon Keng'] },
  { district: 13, sectors: ['34', '35', '36', '37'], areas: ['Macpherson', 'Braddell', 'Potong Pasir', 'Bidadari'] },
  { district: 14, sectors: ['38', '39', '40', '41'], areas: ['Geylang', 'Eunos', 'Paya Lebar', 'Aljunied', 'Ubi'] },
  { district: 15, sectors: ['42', '43', '44', '45'], areas: ['Katong', 'Joo Chiat', 'Amber Road', 'Marine Parade', 'Siglap', 'East Coast'] },
  { district: 16, sectors: ['46', '47', '48'], areas: ['Bedok', 'Upper East Coast', 'Eastwood', 'Kew Drive', 'Tanah Merah', 'Simei'] },
  { district: 17, sectors: ['49', '50', '81'], areas: ['Loyang', 'Changi', 'Flora Drive'] },
  { district: 18, sectors: ['51', '52'], areas: ['Tampines', 'Pasir Ris'] },
  { district: 19, sectors: ['53', '54', '55', '82'], areas: ['Serangoon Garden', 'Hougang', 'Punggol', 'Sengkang', 'Kovan'] },
  { district: 20, sectors: ['56', '57'], areas: ['Bishan', 'Ang Mo Kio', 'Thomson', 'Marymount'] },
  { district: 21, sectors: ['58', '59'], areas: ['Upper Bukit Timah', 'Clementi Park', 'Ulu Pandan', 'Beauty World', 'Bukit Batok East'] },
  { district: 22, sectors: ['60', '61', '62', '63', '64'], areas: ['Jurong', 'Tuas', 'Boon Lay', 'Jurong West', 'Jurong East', 'Pioneer', 'Lakeside'] },
  { district: 23, sectors: ['65', '66', '67', '68'], areas: ['Hillview', 'Dairy Farm', 'Bukit Panjang', 'Choa Chu Kang', 'Bukit Batok'] },
  { district: 24, sectors: ['69', '70', '71'], areas: ['Lim Chu Kang', 'Tengah'] },
  { district: 25, sectors: ['72', '73'], areas: ['Kranji', 'Woodgrove', 'Woodlands'] },
  { district: 26, sectors: ['77', '78'], areas: ['Upper Thomson', 'Springleaf', 'Lentor'] },
  { district: 27, sectors: ['75', '76'], areas: ['Yishun', 'Sembawang', 'Admiralty', 'Canberra'] },
  { district: 28, sectors: ['79', '80'], areas: ['Seletar', 'Yio Chu Kang'] },
];

const BY_SECTOR = new Map<string, PostalDistrict>(POSTAL_DISTRICTS.flatMap((d) => d.sectors.map((s) => [s, d] as [string, PostalDistrict])));

export const districtForSector = (sector: string): PostalDistrict | null => BY_SECTOR.get(sector) ?? null;

/** A six-digit code with a valid sector (01–82), from forms like "S642196", "S(642196)", "Singapore 642196". */
export function normalizePostalCode(raw: unknown): string | null {
  if (typeof raw !== 'string' && typeof raw !== 'number') return null;
  const digits = String(raw).replace(/\D/g, '');
  return digits.length === 6 && BY_SECTOR.has(digits.slice(0, 2)) ? digits : null;
}
