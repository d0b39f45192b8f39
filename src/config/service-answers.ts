import type { AnswerPolicy } from '../core/answer-regions.js';
import type { MeridianConfig, ServiceConfig } from './schema/index.js';

/** What a service's steered answers carry: its own TTL and policy, else the zone's and steering's. */
export interface ServiceAnswers {
  ttl: number;
  answers: AnswerPolicy;
}

export function serviceAnswers(
  config: Pick<MeridianConfig, 'zone' | 'steering'>,
  service: Pick<ServiceConfig, 'ttl' | 'answers'>,
): ServiceAnswers {
  return {
    ttl: service.ttl ?? config.zone.ttl,
    answers: service.answers ?? config.steering.answers,
  };
}
