// Who the virtual users are: US states by the 2020 Census (resident
// population), and countries (2020, UN estimates, rounded) for configs that
// serve beyond the US.

export const US_STATE_POPULATION_2020: ReadonlyMap<string, number> = new Map([
  ['US-AL', 5_024_279],
  ['US-AK', 733_391],
  ['US-AZ', 7_151_502],
  ['US-AR', 3_011_524],
  ['US-CA', 39_538_223],
  ['US-CO', 5_773_714],
  ['US-CT', 3_605_944],
  ['US-DE', 989_948],
  ['US-DC', 689_545],
  ['US-FL', 21_538_187],
  ['US-GA', 10_711_908],
  ['US-HI', 1_455_271],
  ['US-ID', 1_839_106],
  ['US-IL', 12_812_508],
  ['US-IN', 6_785_528],
  ['US-IA', 3_190_369],
  ['US-KS', 2_937_880],
  ['US-KY', 4_505_836],
  ['US-LA', 4_657_757],
  ['US-ME', 1_362_359],
  ['US-MD', 6_177_224],
  ['US-MA', 7_029_917],
  ['US-MI', 10_077_331],
  ['US-MN', 5_706_494],
  ['US-MS', 2_961_279],
  ['US-MO', 6_154_913],
  ['US-MT', 1_084_225],
  ['US-NE', 1_961_504],
  ['US-NV', 3_104_614],
  ['US-NH', 1_377_529],
  ['US-NJ', 9_288_994],
  ['US-NM', 2_117_522],
  ['US-NY', 20_201_249],
  ['US-NC', 10_439_388],
  ['US-ND', 779_094],
  ['US-OH', 11_799_448],
  ['US-OK', 3_959_353],
  ['US-OR', 4_237_256],
  ['US-PA', 13_002_700],
  ['US-RI', 1_097_379],
  ['US-SC', 5_118_425],
  ['US-SD', 886_667],
  ['US-TN', 6_910_840],
  ['US-TX', 29_145_505],
  ['US-UT', 3_271_616],
  ['US-VT', 643_077],
  ['US-VA', 8_631_393],
  ['US-WA', 7_705_281],
  ['US-WV', 1_793_716],
  ['US-WI', 5_893_718],
  ['US-WY', 576_851],
]);

export const COUNTRY_POPULATION_2020: ReadonlyMap<string, number> = new Map([
  ['US', 331_449_281],
  ['CA', 38_000_000],
  ['MX', 128_900_000],
  ['BR', 212_600_000],
  ['GB', 67_100_000],
  ['IE', 5_000_000],
  ['FR', 67_400_000],
  ['DE', 83_200_000],
  ['ES', 47_400_000],
  ['PT', 10_300_000],
  ['IT', 59_600_000],
  ['NL', 17_400_000],
  ['BE', 11_500_000],
  ['LU', 630_000],
  ['CH', 8_600_000],
  ['AT', 8_900_000],
  ['DK', 5_800_000],
  ['NO', 5_400_000],
  ['SE', 10_400_000],
  ['FI', 5_500_000],
  ['IS', 370_000],
  ['PL', 38_000_000],
  ['CZ', 10_700_000],
  ['SK', 5_500_000],
  ['HU', 9_700_000],
  ['SI', 2_100_000],
  ['HR', 4_000_000],
  ['RO', 19_300_000],
  ['BG', 6_900_000],
  ['GR', 10_700_000],
  ['EE', 1_300_000],
  ['LV', 1_900_000],
  ['LT', 2_800_000],
  ['MT', 520_000],
  ['CY', 1_200_000],
  ['UA', 44_100_000],
  ['RS', 6_900_000],
  ['BA', 3_300_000],
  ['ME', 620_000],
  ['MK', 2_100_000],
  ['AL', 2_800_000],
  ['MD', 2_600_000],
  ['BY', 9_400_000],
  ['JP', 125_800_000],
  ['AU', 25_700_000],
  ['IN', 1_380_000_000],
  ['SG', 5_700_000],
  ['KR', 51_800_000],
]);

/**
 * Weights of the places users come from: every US state; plus, when the
 * config steers countries outside the US, each of those countries.
 */
export function populationWeights(territoryCodes: Iterable<string>): Map<string, number> {
  const weights = new Map(US_STATE_POPULATION_2020);
  for (const code of territoryCodes) {
    if (code.includes('-') || code === 'US') continue;
    const people = COUNTRY_POPULATION_2020.get(code);
    if (people !== undefined) weights.set(code, people);
  }
  return weights;
}

/** The share of population each region is home to, by a code -> region map (what "steady" expects). */
export function expectedShares(
  weights: ReadonlyMap<string, number>,
  homeOf: (code: string) => string | undefined,
): Map<string, number> {
  const byRegion = new Map<string, number>();
  let total = 0;
  for (const [code, people] of weights) {
    const region = homeOf(code);
    if (region === undefined) continue;
    byRegion.set(region, (byRegion.get(region) ?? 0) + people);
    total += people;
  }
  for (const [r, n] of byRegion) byRegion.set(r, n / total);
  return byRegion;
}
