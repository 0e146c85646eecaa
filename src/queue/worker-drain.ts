import { WorkerHost } from '@nestjs/bullmq';
import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';

/**
 * On shutdown (SIGTERM), stops every queue worker of this process from taking new jobs and waits
 * for the jobs it is running to finish, before the database and Redis connections are closed.
 */
@Injectable()
export class WorkerDrain implements BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkerDrain.name);

  constructor(private readonly discovery: DiscoveryService) {}

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    const hosts = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is WorkerHost => instance instanceof WorkerHost);
    if (hosts.length === 0) return;
    this.logger.log({ signal, workers: hosts.length }, 'draining queue workers');
    await Promise.all(hosts.map((host) => host.worker.close()));
    this.logger.log('queue workers drained');
  }
}
