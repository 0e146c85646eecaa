import { SendingPlaces } from 'src/delivery/sending-places';

describe('SendingPlaces', () => {
  afterEach(() => jest.useRealTimers());

  it('gives places up to its limit, then one to each in line as they come back, in order', async () => {
    const places = new SendingPlaces(2);
    await expect(places.take(1_000)).resolves.toBe(true);
    await expect(places.take(1_000)).resolves.toBe(true);
    const order: string[] = [];
    const third = places.take(1_000).then((got) => order.push(`third ${got}`));
    const fourth = places.take(1_000).then((got) => order.push(`fourth ${got}`));
    places.give();
    await third;
    expect(order).toEqual(['third true']);
    places.give();
    await fourth;
    expect(order).toEqual(['third true', 'fourth true']);
    // Two places out, none in line: one given back is free for the next taker at once.
    places.give();
    await expect(places.take(0)).resolves.toBe(true);
    await expect(places.take(0)).resolves.toBe(false);
  });

  it('answers false to a taker whose wait ran out, and passes it over when a place comes back', async () => {
    jest.useFakeTimers();
    const places = new SendingPlaces(1);
    await expect(places.take(0)).resolves.toBe(true);
    const late = places.take(500);
    const patient = places.take(5_000);
    await jest.advanceTimersByTimeAsync(500);
    await expect(late).resolves.toBe(false);
    places.give();
    await expect(patient).resolves.toBe(true);
    // The place went to the one still waiting; it is taken until given back.
    await expect(places.take(0)).resolves.toBe(false);
    places.give();
    await expect(places.take(0)).resolves.toBe(true);
  });
});
