/** How `export kubernetes` builds its CronJobs; its defaults are shown in `--help`, so they live apart from the exporter. */
export interface KubernetesOptions {
  /** The image: this repository with Meltano and the project, built as docs/scaling.md shows. */
  readonly image: string;
  /** Where the project is in the image (the plugins' working directory). */
  readonly projectPath: string;
  /** The ReadWriteMany claim holding `state/` (every company's token store), shared by all jobs. */
  readonly stateClaim: string;
  readonly namespace?: string;
}

export const KUBERNETES_DEFAULTS: KubernetesOptions = {
  image: 'registry.example.com/qbo-meltano:1.0',
  projectPath: '/project',
  stateClaim: 'qbo-state',
};
